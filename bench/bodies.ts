/**
 * The request bodies of the benchmark, built from the test fixtures and moved in time so that the
 * real server's real clock answers them as the fixtures' fixed clock does: a running Sandbox is
 * still within its timeout, warm pods are within their ttl, nothing is retired.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_NOW } from "../test/support/app.js";
import { FIXTURES } from "../test/support/fixtures.js";
import { shiftTimes, warmPoolRequest } from "../test/support/pools.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = Record<string, Json>;

/** What one benchmark case sends, and how to tell that the answer took the path it measures. */
export interface BenchCase {
  /** Short and stable, for `--case` and the results file. */
  id: string;
  /** What the table says. */
  title: string;
  path: string;
  /** The request body, built when the case starts (timestamps are relative to that moment). */
  body(): Buffer;
  /** Throws unless the answer is the one this case means to measure. */
  check(response: JsonObject): void;
}

function fixtureRequest(parent: string, name: string): Json {
  return JSON.parse(readFileSync(join(FIXTURES, parent, name, "request.json"), "utf8")) as Json;
}

/** A fixture's request as if sent now: its fixed clock is {@link FIXTURE_NOW}. */
function requestNow(parent: string, name: string): JsonObject {
  return shiftTimes(fixtureRequest(parent, name), Date.now() - Date.parse(FIXTURE_NOW)) as JsonObject;
}

function object(value: Json | undefined, what: string): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what}: not an object`);
  return value;
}

function conditionOf(response: JsonObject, type: string): JsonObject | undefined {
  const conditions = object(response.status, "status").conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.map((c) => object(c, "condition")).find((c) => c.type === type);
}

function expect(what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function sandboxCase(id: string, title: string, fixture: string, check: (response: JsonObject) => void): BenchCase {
  return {
    id,
    title,
    path: "/sandbox/sync",
    body: () => Buffer.from(JSON.stringify(requestNow("sandbox", fixture))),
    check,
  };
}

/**
 * A pool's request as Metacontroller sends it: each observed pod carries the annotation in which
 * Metacontroller keeps what it last applied, the pod as the hook asked for it (about as long as
 * the rest of the pod).
 */
function withLastApplied(request: JsonObject): JsonObject {
  const pods = object(object(request.children, "children")["Pod.v1"], "children.Pod.v1");
  for (const value of Object.values(pods)) {
    const pod = object(value, "pod");
    const metadata = object(pod.metadata, "pod.metadata");
    const annotations = object(metadata.annotations ?? {}, "pod.metadata.annotations");
    const applied = { apiVersion: "v1", kind: "Pod", metadata: { name: metadata.name ?? null, namespace: metadata.namespace ?? null, labels: metadata.labels ?? null }, spec: pod.spec ?? null };
    metadata.annotations = { ...annotations, "metacontroller.k8s.io/last-applied-configuration": JSON.stringify(applied) };
  }
  return request;
}

function warmPoolCase(n: number): BenchCase {
  return {
    id: `warmpool-sync-${n}`,
    title: `warmpool sync, N=${n.toLocaleString("en-US")} pods`,
    path: "/warmpool/sync",
    body: () => Buffer.from(JSON.stringify(withLastApplied(warmPoolRequest(n)))),
    check: (response) => {
      const status = object(response.status, "status");
      expect("status.availablePods", status.availablePods, n);
      expect("status.pendingPods", status.pendingPods, 0);
      expect("children", Array.isArray(response.children) ? response.children.length : undefined, n + 2);
      expect("Ready condition", conditionOf(response, "Ready")?.reason, "PodsAvailable");
      expect("RetireFailure condition", conditionOf(response, "RetireFailure"), undefined);
    },
  };
}

/** Up to the largest pool there is (WARM_POOL_SIZE_CAP). */
export const WARM_POOL_SIZES = [10, 100, 1000] as const;

export const CASES: readonly BenchCase[] = [
  sandboxCase("sandbox-sync-new", "sandbox sync, new Sandbox (standard-minimal)", "standard-minimal", (response) => {
    expect("status.phase", object(response.status, "status").phase, "Pending");
    expect("children", Array.isArray(response.children) ? response.children.length : undefined, 6);
  }),
  sandboxCase(
    "sandbox-sync-running",
    "sandbox sync, running, 4 observed children",
    "phase-running-carried-start-time",
    (response) => {
      expect("status.phase", object(response.status, "status").phase, "Running");
      expect("Expired condition", conditionOf(response, "Expired")?.status, "False");
    },
  ),
  sandboxCase(
    "sandbox-sync-claim-disabled",
    "sandbox sync, warm pod asked, claim lookup disabled",
    "warm-requested-claiming-disabled",
    (response) => {
      expect("WarmPodClaimed condition", conditionOf(response, "WarmPodClaimed")?.reason, "ClaimingDisabled");
    },
  ),
  ...WARM_POOL_SIZES.map(warmPoolCase),
];
