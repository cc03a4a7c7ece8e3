/**
 * Sandbox transitions counted once (issue #15): the server records each named transition in a
 * store only one writer can win (Kubernetes Events in production), and counts it only when its
 * own write won. And the per-replica gauges that forget what this replica no longer syncs.
 */
import assert from "node:assert/strict";
import type { SandboxTransition } from "../hooks/sandbox-sync.js";
import { ApiException, type CoreV1Api, type CoreV1Event } from "@kubernetes/client-node";
import { KubernetesEventStore, eventName, transitionEvent } from "../src/server/kube-events.js";
import { createLogger } from "../src/server/log.js";
import { SEEN_TTL_MS, STARTING_TTL_MS, createMetrics, exposition, type Metrics } from "../src/server/metrics.js";
import { RecentKeys, Transitions, type TransitionStore } from "../src/server/transitions.js";

const NOW = new Date("2026-11-29T12:00:00Z");

function ready(key: string, seconds = 1.5, resume?: { resumeSeconds: number }): SandboxTransition {
  return {
    key,
    sandbox: { namespace: "team-a", name: "demo", uid: "uid-1" },
    message: `Running ${seconds}s after it was created, on pod sandbox-demo (a cold start).`,
    kind: "Ready",
    path: resume === undefined ? "cold" : "resume",
    runtime: "python:3.10",
    securityLevel: "standard",
    seconds,
    pod: "sandbox-demo",
    ...resume,
  };
}

/** A store shared by several servers, as the API server is: a key is recorded once. */
class SharedStore implements TransitionStore {
  readonly recorded = new Set<string>();
  calls = 0;
  failures = 0;

  record(transition: SandboxTransition): Promise<boolean> {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error("HTTP 503"));
    }
    if (this.recorded.has(transition.key)) return Promise.resolve(false);
    this.recorded.add(transition.key);
    return Promise.resolve(true);
  }
}

async function readyCount(metrics: Metrics): Promise<number> {
  const line = (await exposition(metrics)).split("\n").find((l) => l.startsWith("llmsafespace_sandbox_ready_seconds_count{"));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

function server(store: TransitionStore | undefined) {
  const metrics = createMetrics({ processMetrics: false });
  const transitions = new Transitions({ metrics, clock: () => NOW, logger: createLogger("silent"), sleep: () => Promise.resolve(), ...(store !== undefined ? { store } : {}) });
  return { metrics, transitions };
}

describe("transitions", () => {
  it("transitions › two replicas and a restarted one record the same start › one of them counts it", async () => {
    const store = new SharedStore();
    const replicas = [server(store), server(store), server(store)];
    for (const { transitions } of replicas) {
      transitions.record(ready("uid-1/ready/pod-1"));
      transitions.record(ready("uid-1/ready/pod-1"));
      await transitions.settled();
    }
    const counts = await Promise.all(replicas.map(({ metrics }) => readyCount(metrics)));
    assert.deepEqual(counts, [1, 0, 0]);
    // Each replica asked the store once: its second record joined or skipped the first.
    assert.equal(store.calls, 3);
  });

  it("transitions › the store fails twice, then works › counted once, after three tries", async () => {
    const store = new SharedStore();
    store.failures = 2;
    const { metrics, transitions } = server(store);
    transitions.record(ready("k"));
    await transitions.settled();
    assert.equal(store.calls, 3);
    assert.equal(await readyCount(metrics), 1);
  });

  it("transitions › the store fails every try › not counted and not remembered: a later sync may record it", async () => {
    const store = new SharedStore();
    store.failures = 3;
    const { metrics, transitions } = server(store);
    transitions.record(ready("k"));
    await transitions.settled();
    assert.equal(await readyCount(metrics), 0);
    transitions.record(ready("k"));
    await transitions.settled();
    assert.equal(await readyCount(metrics), 1);
  });

  it("transitions › without a store › this server's memory counts each key once", async () => {
    const { metrics, transitions } = server(undefined);
    for (const key of ["a", "a", "b"]) transitions.record(ready(key));
    await transitions.settled();
    assert.equal(await readyCount(metrics), 2);
  });

  it("transitions › a resume's start › time to ready and resume time, each observed once", async () => {
    const { metrics, transitions } = server(new SharedStore());
    transitions.record(ready("r", 1.5, { resumeSeconds: 2 }));
    await transitions.settled();
    const text = await exposition(metrics);
    assert.match(text, /^llmsafespace_sandbox_ready_seconds_count\{path="resume",runtime="python:3.10",security_level="standard"\} 1$/m);
    assert.match(text, /^llmsafespace_sandbox_resume_seconds_count 1$/m);
  });

  it("transitions › RecentKeys › past its capacity the oldest key is forgotten", () => {
    const keys = new RecentKeys(2);
    for (const key of ["a", "b", "c"]) keys.add(key);
    assert.deepEqual(["a", "b", "c"].map((key) => keys.has(key)), [false, true, true]);
  });

  it("transitions › the Event › named by the Sandbox and a digest of the key, about the Sandbox, its pod related", () => {
    const event = transitionEvent(ready("uid-1/ready/pod-1"), NOW, "llmsafespace-hooks-0");
    assert.match(event.metadata.name ?? "", /^demo\.[0-9a-f]{16}$/);
    assert.equal(eventName(ready("uid-1/ready/pod-1")), event.metadata.name);
    assert.notEqual(eventName(ready("uid-1/ready/pod-2")), event.metadata.name);
    assert.deepEqual(event.involvedObject, { apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", namespace: "team-a", name: "demo", uid: "uid-1" });
    assert.deepEqual(event.related, { apiVersion: "v1", kind: "Pod", namespace: "team-a", name: "sandbox-demo" });
    assert.equal(event.reason, "Ready");
    assert.equal(event.type, "Normal");
    assert.equal(event.reportingInstance, "llmsafespace-hooks-0");
  });

  it("transitions › the Event of a Sandbox with a 253-character name › a valid object name", () => {
    const long = { ...ready("k"), sandbox: { namespace: "team-a", name: "a".repeat(253), uid: "u" } };
    assert.equal(eventName(long).length, 253);
  });
});

/** The Events API of one namespace, as the API server keeps it; `loseAnswers` drops the answer of that many creates that did land. */
class FakeEventsApi {
  readonly events = new Map<string, CoreV1Event>();
  loseAnswers = 0;

  createNamespacedEvent({ body }: { namespace: string; body: CoreV1Event }): Promise<CoreV1Event> {
    const name = body.metadata.name ?? "";
    if (this.events.has(name)) return Promise.reject(new ApiException(409, "AlreadyExists", {}, {}));
    this.events.set(name, body);
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      return Promise.reject(new Error("socket hang up"));
    }
    return Promise.resolve(body);
  }

  readNamespacedEvent({ name }: { namespace: string; name: string }): Promise<CoreV1Event> {
    const event = this.events.get(name);
    return event === undefined ? Promise.reject(new ApiException(404, "NotFound", {}, {})) : Promise.resolve(event);
  }
}

describe("transitions › Kubernetes Events", () => {
  const storeOn = (api: FakeEventsApi, instance: string) => new KubernetesEventStore(api as unknown as CoreV1Api, instance);

  it("events › a create that landed but whose answer was lost › the retry finds its own Event and counts it once", async () => {
    const api = new FakeEventsApi();
    api.loseAnswers = 1;
    const metrics = createMetrics({ processMetrics: false });
    const transitions = new Transitions({ metrics, clock: () => NOW, store: storeOn(api, "hooks-0-aaaa"), sleep: () => Promise.resolve() });
    transitions.record(ready("k"));
    await transitions.settled();
    assert.equal(api.events.size, 1);
    assert.equal(await readyCount(metrics), 1);
  });

  it("events › another server's Event, or this pod's before a restart › not counted again", async () => {
    const api = new FakeEventsApi();
    assert.equal(await storeOn(api, "hooks-0-aaaa").record(ready("k"), NOW), true);
    assert.equal(await storeOn(api, "hooks-1-bbbb").record(ready("k"), NOW), false);
    assert.equal(await storeOn(api, "hooks-0-cccc").record(ready("k"), NOW), false);
  });
});

describe("per-replica gauges", () => {
  it("gauges › a pool this replica stops syncing › dropped after the TTL; one it syncs stays", async () => {
    let now = NOW.getTime();
    const metrics = createMetrics({ processMetrics: false, clock: () => new Date(now) });
    const pool = (name: string) => ({ namespace: "team-a", pool: name, runtime: "python:3.10", securityLevel: "standard" });
    metrics.pools.set(pool("old"), { available: 0, pending: 0, assigned: 0, desired: 2 });
    now += SEEN_TTL_MS;
    metrics.pools.set(pool("fresh"), { available: 1, pending: 0, assigned: 0, desired: 1 });
    assert.match(await exposition(metrics), /pool="old"/);
    now += 1;
    const text = await exposition(metrics);
    assert.doesNotMatch(text, /pool="old"/);
    assert.match(text, /^llmsafespace_warm_pool_desired_pods\{namespace="team-a",pool="fresh",runtime="python:3.10",security_level="standard"\} 1$/m);
  });

  it("gauges › a pool whose runtime changed › only the new runtime's series", async () => {
    const metrics = createMetrics({ processMetrics: false, clock: () => NOW });
    metrics.pools.set({ namespace: "n", pool: "p", runtime: "python:3.10", securityLevel: "standard" }, { available: 0, pending: 0, assigned: 0, desired: 1 });
    metrics.pools.set({ namespace: "n", pool: "p", runtime: "node:20", securityLevel: "standard" }, { available: 0, pending: 0, assigned: 0, desired: 1 });
    const desired = (await exposition(metrics)).split("\n").filter((l) => l.startsWith("llmsafespace_warm_pool_desired_pods{"));
    assert.deepEqual(desired, ['llmsafespace_warm_pool_desired_pods{namespace="n",pool="p",runtime="node:20",security_level="standard"} 1']);
  });

  it("gauges › Sandboxes starting › counted, the oldest aged from creation or resume, forgotten once Running", async () => {
    let now = NOW.getTime();
    const metrics = createMetrics({ processMetrics: false, clock: () => new Date(now) });
    metrics.starting.synced("a", "2026-11-29T11:55:00Z", { phase: "Pending" });
    const resumed = { type: "Suspended", status: "False" as const, reason: "Resumed", message: "", lastTransitionTime: "2026-11-29T11:59:00Z" };
    metrics.starting.synced("b", "2026-11-29T10:00:00Z", { phase: "Creating", startTime: "2026-11-29T10:01:00Z", runningSeconds: 60, conditions: [resumed] });
    // It ran, and its pod went unready: not starting.
    metrics.starting.synced("c", "2026-11-26T10:00:00Z", { phase: "Creating", startTime: "2026-11-26T10:01:00Z" });
    let text = await exposition(metrics);
    assert.match(text, /^llmsafespace_sandboxes_starting 2$/m);
    assert.match(text, /^llmsafespace_sandbox_starting_oldest_seconds 300$/m);
    metrics.starting.synced("a", undefined, { phase: "Running" });
    text = await exposition(metrics);
    assert.match(text, /^llmsafespace_sandboxes_starting 1$/m);
    assert.match(text, /^llmsafespace_sandbox_starting_oldest_seconds 60$/m);
    now += STARTING_TTL_MS + 1;
    text = await exposition(metrics);
    assert.match(text, /^llmsafespace_sandboxes_starting 0$/m);
    assert.match(text, /^llmsafespace_sandbox_starting_oldest_seconds 0$/m);
  });
});
