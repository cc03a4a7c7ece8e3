/**
 * The properties every fixture answer must have, whatever its parent kind: it equals its golden,
 * the same request gives the same bytes, a sync answer is a fixed point (its children fed back as
 * observed, or its status fed back as the parent's, change nothing), and every child it asks for
 * is a valid Kubernetes object, every pod admitted under Pod Security "restricted".
 */
import assert from "node:assert/strict";
import { answerFixture as answer } from "./app.js";
import { fixtureCases, stableStringify, updatingGoldens, writeGolden } from "./fixtures.js";
import { validateKubernetesObject } from "./k8s-schema.js";
import { RESTRICTED_RULES, type PodLike } from "./pod-security.js";

interface Child {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

interface Answer {
  children?: Child[];
  status?: unknown;
}

/** Desired children as Metacontroller would send them back once they exist (v2 keys). */
function asObserved(children: readonly Child[]): Record<string, Record<string, Child>> {
  const map: Record<string, Record<string, Child>> = {};
  for (const child of children) {
    const group = (map[`${child.kind}.${child.apiVersion}`] ??= {});
    group[`${child.metadata.namespace ?? ""}/${child.metadata.name}`] = structuredClone(child);
  }
  return map;
}

function sorted(children: readonly Child[] = []): Child[] {
  const key = (c: Child) => `${c.kind}/${c.metadata.namespace ?? ""}/${c.metadata.name}`;
  return [...children].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** One `describe` over `test/fixtures/<parent>`, with every property checked for every case. */
export function fixtureSuite(parent: string, options: { minCases: number }): void {
  const cases = fixtureCases(parent);

  describe(`${parent} fixtures`, () => {
    it(`${parent} fixtures › the suite › has at least ${options.minCases} cases`, () => {
      assert.ok(cases.length >= options.minCases, `only ${cases.length} cases`);
    });

    for (const fixture of cases) {
      describe(fixture.name, () => {
        it(`${fixture.name} › answer › equals the golden`, async () => {
          const { status, body, text } = await answer(fixture);
          assert.equal(status, 200, text);
          if (updatingGoldens) writeGolden(fixture, body);
          assert.deepStrictEqual(body, fixture.golden());
        });

        it(`${fixture.name} › same request twice › same bytes`, async () => {
          const first = await answer(fixture);
          const second = await answer(fixture);
          assert.equal(second.text, first.text);
        });

        if ((fixture.options.hook ?? "sync") !== "sync") return;

        const rounds = fixture.options.settles ?? 1;
        it(`${fixture.name} › desired children fed back as observed › the same desired children${rounds > 1 ? ` from round ${rounds}` : ""}`, async () => {
          // Round 0 is the fixture's own answer; each round feeds the last one's children back.
          let children = (await answer(fixture)).body.children ?? [];
          const answers = [stableStringify(sorted(children))];
          for (let round = 1; round <= rounds; round++) {
            const body = fixture.request();
            body.children = asObserved(children);
            const next = await answer(fixture, body);
            assert.equal(next.status, 200, next.text);
            children = next.body.children ?? [];
            answers.push(stableStringify(sorted(children)));
          }
          // Settled exactly at `rounds`: the last round changes nothing, every round before it did.
          assert.equal(answers[rounds], answers[rounds - 1]);
          for (let round = 1; round < rounds; round++) {
            assert.notEqual(answers[round], answers[round - 1], `the answer already settled at round ${round}; lower "settles"`);
          }
        });

        it(`${fixture.name} › its status fed back as the parent's › the same status (no write loop)`, async () => {
          const first = await answer(fixture);
          const body = fixture.request();
          (body.parent as { status?: unknown }).status = first.body.status;
          const second = await answer(fixture, body);
          assert.equal(second.status, 200, second.text);
          assert.equal(stableStringify(second.body.status), stableStringify(first.body.status));
        });

        it(`${fixture.name} › every child › validates against the Kubernetes schema`, () => {
          const golden = fixture.golden() as Answer;
          for (const child of golden.children ?? []) {
            assert.deepStrictEqual(validateKubernetesObject(child), [], `${child.kind} ${child.metadata.name}`);
          }
        });

        it(`${fixture.name} › every pod › meets Pod Security "restricted"`, () => {
          const golden = fixture.golden() as Answer;
          for (const pod of (golden.children ?? []).filter((c) => c.kind === "Pod")) {
            for (const rule of RESTRICTED_RULES) {
              assert.deepStrictEqual(rule.check(pod as PodLike), [], `${pod.metadata.name}: ${rule.title}`);
            }
          }
        });
      });
    }
  });
}
