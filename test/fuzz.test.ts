/**
 * Property-based fuzzing of the HTTP server: requests made by mutating every fixture — fields
 * dropped, types swapped, huge and unicode strings, deep nesting, `__proto__` and `constructor`
 * keys, duplicated keys, numbers at the edges. Every answer must be a 4xx with a JSON error, or a
 * 200 whose built children pass the Kubernetes schemas and Pod Security "restricted"; never a
 * 5xx, never a crash, never a hang.
 *
 * FUZZ_RUNS sets the number of cases (default 10,000); a failure prints its seed and path, and
 * FUZZ_SEED=<seed> FUZZ_PATH=<path> replays it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import request from "supertest";
import { restrictedViolations, type PodLike } from "./support/pod-security.js";
import { validateKubernetesObject } from "./support/k8s-schema.js";
import { testApp } from "./support/app.js";
import { fixtureCases, type FixtureCase } from "./support/fixtures.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const ANSWER_WITHIN_MS = 2_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Child {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** Every path in a JSON value (as key lists), the root included. */
function paths(value: Json, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => paths(item, [...prefix, String(i)], out));
  else if (value !== null && typeof value === "object") for (const [key, item] of Object.entries(value)) paths(item, [...prefix, key], out);
  return out;
}

function setAt(root: Json, path: readonly string[], replace: (old: Json | undefined) => Json | undefined): Json {
  if (path.length === 0) return replace(root) ?? null;
  const [head = "", ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    const next = setAt(copy[Number(head)] ?? null, rest, replace);
    copy[Number(head)] = next;
    return copy;
  }
  if (root !== null && typeof root === "object") {
    if (rest.length === 0) {
      const value = replace(root[head]);
      // Dropping a field: rebuild the object without it.
      return Object.fromEntries(
        Object.entries(root)
          .map(([key, item]): [string, Json | undefined] => [key, key === head ? value : item])
          .filter((entry): entry is [string, Json] => entry[1] !== undefined)
          .concat(value !== undefined && !(head in root) ? [[head, value]] : []),
      );
    }
    return { ...root, [head]: setAt(root[head] ?? null, rest, replace) };
  }
  return root;
}

function nested(depth: number): Json {
  let value: Json = "bottom";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { deeper: value };
  return value;
}

/** A value that breaks expectations: wrong types, edge numbers, huge or odd strings, nesting. */
const hostile: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_VALUE, 1e308, 0.5, -0),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "../../etc/passwd", "${jndi:x}", "a".repeat(70_000), "😀".repeat(300), "0.0.0.0/0", "::/0", "169.254.169.254/32"),
  fc.integer({ min: 1, max: 3000 }).map((depth) => nested(depth)),
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }) as fc.Arbitrary<Json>,
  fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>,
);

type Mutation = { kind: "set"; path: string[]; value: Json | undefined } | { kind: "text"; edit: "proto" | "constructor" | "duplicate" | "truncate" };

function mutation(body: Json): fc.Arbitrary<Mutation> {
  const all = paths(body);
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant("set" as const), path: fc.constantFrom(...all), value: hostile }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("text" as const), edit: fc.constantFrom("proto" as const, "constructor" as const, "duplicate" as const, "truncate" as const) }) },
  );
}

/** The request body as text, after the mutation. */
function mutated(body: Json, m: Mutation): string {
  if (m.kind === "set") return JSON.stringify(setAt(body, m.path, () => m.value));
  const text = JSON.stringify(body);
  switch (m.edit) {
    case "proto":
      return text.replace('"parent":{', '"parent":{"__proto__":{"admin":true},');
    case "constructor":
      return text.replace('"spec":{', '"spec":{"constructor":{"prototype":{"admin":true}},');
    case "duplicate":
      // JSON.parse keeps the last of duplicated keys; the validator must see that one.
      return text.replace('"spec":{', '"spec":{"securityLevel":"custom","timeout":-5,');
    case "truncate":
      return text.slice(0, Math.floor(text.length / 2));
  }
}

function hookPath(fixture: FixtureCase): string {
  return `/${fixture.parent}/${fixture.options.hook ?? "sync"}`;
}

describe("fuzzing the hook server", function () {
  this.timeout(600_000);
  const fixtures = [...fixtureCases("sandbox"), ...fixtureCases("warmpool")];
  const app = testApp();

  it(`fuzz › ${RUNS} mutated fixture requests › a 4xx with a JSON error, or a 200 with valid children; never a 5xx`, async () => {
    const arbitrary = fc
      .constantFrom(...fixtures)
      .chain((fixture) => {
        const body = fixture.request() as Json;
        return fc.tuple(fc.constant(fixture), fc.constant(body), mutation(body));
      });
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([fixture, body, m]) => {
        const text = mutated(body, m);
        const began = Date.now();
        const response = await request(app).post(hookPath(fixture)).set("content-type", "application/json").send(text);
        const took = Date.now() - began;
        assert.ok(took < ANSWER_WITHIN_MS, `answered after ${took} ms`);
        assert.ok(response.status < 500, `${response.status} ${response.text.slice(0, 300)}`);
        assert.match(String(response.headers["content-type"]), /application\/json/);
        if (response.status !== 200) {
          assert.equal(typeof (response.body as { error?: unknown }).error, "string");
          return;
        }
        // Children the hook built must be valid; children it kept are echoed as Metacontroller
        // sent them (in a cluster, the API server already validated those).
        const observed = new Set<string>();
        const sent = (JSON.parse(text) as { children?: unknown }).children;
        if (sent !== null && typeof sent === "object") {
          for (const group of Object.values(sent as Record<string, unknown>)) {
            if (group === null || typeof group !== "object") continue;
            for (const child of Object.values(group as Record<string, Child | null>)) {
              if (child !== null && typeof child === "object" && typeof child.metadata === "object") {
                observed.add(`${child.kind}/${child.metadata.name}`);
              }
            }
          }
        }
        for (const child of (response.body as { children?: Child[] }).children ?? []) {
          if (observed.has(`${child.kind}/${child.metadata.name}`)) continue;
          assert.deepEqual(validateKubernetesObject(child), [], `${child.kind} ${child.metadata.name}`);
          if (child.kind === "Pod") assert.deepEqual(restrictedViolations(child as PodLike), [], child.metadata.name);
        }
        assert.equal(({} as Record<string, unknown>).admin, undefined, "Object.prototype was polluted");
      }),
      {
        numRuns: RUNS,
        ...(process.env.FUZZ_SEED !== undefined ? { seed: Number(process.env.FUZZ_SEED) } : {}),
        ...(process.env.FUZZ_PATH !== undefined ? { path: process.env.FUZZ_PATH } : {}),
      },
    );
    console.log(`      (${RUNS} cases in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });
});
