/**
 * Two hook replicas and a restart through the real Metacontroller (issue #15): every Sandbox's
 * start is counted in `llmsafespace_sandbox_ready_seconds` exactly once over all replicas, and
 * told as one Ready Event, though its syncs land on both replicas and each sync is repeated on
 * the other replica, as a sync from a stale cache may be.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { KubeObjectLike } from "../integration/support/kube.js";
import { freePort } from "../support/ports.js";
import { env, expectOutage } from "./setup.js";
import { HookServer } from "./support/environment.js";
import { RoundRobinProxy } from "./support/proxy.js";
import { WARM, apply, condition, eventually, list, metricValue, poolReady, running, sandbox, scenarioNamespace, warmPool, type Sandbox } from "./support/scenario.js";

const NAMESPACE = "e2e-replicas";
const READY_COUNT = "llmsafespace_sandbox_ready_seconds_count";

interface Event extends KubeObjectLike {
  reason: string;
  involvedObject: { name: string; uid: string };
  reportingComponent?: string;
}

describe("two hook replicas through the real Metacontroller", function () {
  this.timeout(180_000);

  let replicas: HookServer[] = [];
  let proxy: RoundRobinProxy | undefined;

  before(async () => {
    await scenarioNamespace(NAMESPACE);
  });

  after(async () => {
    // The environment's own hook server back on its port, as the next tests expect.
    await proxy?.stop();
    for (const replica of replicas) await replica.stop();
    await env().hooks.start();
  });

  it("ready › Sandboxes warm and cold, synced by two replicas, one restarted midway › each start counted once, with one Ready Event", async function () {
    // Swapping the server for the proxy takes a moment in which hook calls fail and are retried.
    expectOutage(this);
    const kubeconfig = join(env().cluster.dir, "hooks-kubeconfig");
    replicas = await Promise.all(
      ["a", "b"].map(async (name) => new HookServer(await freePort(), kubeconfig, join(env().cluster.dir, `hooks-replica-${name}.log`))),
    );
    await Promise.all(replicas.map((replica) => replica.start()));
    await env().hooks.stop();
    // Every Sandbox sync also goes to the other replica a moment later, as a sync from a stale
    // cache may: each start is recorded by both replicas, and counted by one.
    proxy = new RoundRobinProxy(env().hooks.port, replicas.map((replica) => replica.port), { mirror: true });
    await proxy.start();
    const [first, second] = replicas;
    assert.ok(first !== undefined && second !== undefined);

    await apply(warmPool(NAMESPACE, "replicas", { minSize: 3 }));
    await poolReady(NAMESPACE, "replicas", 3, 60_000);
    const counts = (texts: readonly string[]) => ({
      warm: texts.reduce((sum, text) => sum + metricValue(text, READY_COUNT, { path: "warm" }), 0),
      cold: texts.reduce((sum, text) => sum + metricValue(text, READY_COUNT, { path: "cold" }), 0),
    });
    /** Waits until `expected` starts are counted over the replicas (plus `earlier` scrapes), then a little longer, in which nothing may be counted twice. */
    const settle = async (expected: number, earlier: readonly string[]) => {
      const now = async () => counts([...earlier, await first.metrics(), await second.metrics()]);
      await eventually(`${expected} starts counted`, async () => {
        const { warm, cold } = await now();
        return warm + cold >= expected ? true : undefined;
      }, 30_000, async () => JSON.stringify(await now()));
      await new Promise((done) => setTimeout(done, 3_000));
      return now();
    };

    // Two warm and one cold, then the first replica restarts (SIGTERM, as a rollout does): what
    // it counted before is what Prometheus scraped from it. Then one warm and two cold more.
    const batches = [
      [sandbox(NAMESPACE, "start-0", {}, WARM), sandbox(NAMESPACE, "start-1", {}, WARM), sandbox(NAMESPACE, "start-2")],
      [sandbox(NAMESPACE, "start-3", {}, WARM), sandbox(NAMESPACE, "start-4"), sandbox(NAMESPACE, "start-5")],
    ];
    const started: Sandbox[] = [];
    await apply(...(batches[0] ?? []));
    for (const s of batches[0] ?? []) started.push(await running(NAMESPACE, s.metadata.name, 60_000));
    await settle(3, []);
    const beforeRestart = await first.metrics();
    await first.restart();
    await apply(...(batches[1] ?? []));
    for (const s of batches[1] ?? []) started.push(await running(NAMESPACE, s.metadata.name, 60_000));
    const counted = await settle(6, [beforeRestart]);

    const claimed = started.filter((s) => condition(s, "WarmPodClaimed")?.status === "True").length;
    assert.ok(claimed >= 1, "at least one Sandbox got a warm pod");
    assert.deepEqual(counted, { warm: claimed, cold: started.length - claimed });
    // Both replicas answered syncs, and every start was synced again on the other one, so the
    // count held over replicas, not inside one.
    assert.equal([...proxy.answered.values()].filter((n) => n > 0).length, 2, JSON.stringify([...proxy.answered]));
    assert.ok(proxy.mirrored >= started.length, `${proxy.mirrored} mirrored syncs`);

    const events = (await list<Event>(`/api/v1/namespaces/${NAMESPACE}/events`)).filter(
      (e) => e.reason === "Ready" && e.reportingComponent === "llmsafespace.dev/hooks",
    );
    for (const s of started) {
      assert.equal(events.filter((e) => e.involvedObject.uid === s.metadata.uid).length, 1, `${s.metadata.name}: ${JSON.stringify(events.map((e) => e.involvedObject.name))}`);
    }
  });
});
