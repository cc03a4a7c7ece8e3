/**
 * A burst of Sandboxes against a smaller pool, through the real Metacontroller with the
 * install guide's rate limits: exactly as many claims as the pool had Ready pods, no pod with
 * two owners, none orphaned, every Sandbox Running, and soon.
 */
import assert from "node:assert/strict";
import { env } from "./setup.js";
import {
  GROUP_VERSION,
  WARM,
  apply,
  condition,
  eventually,
  list,
  metricValue,
  pods,
  poolReady,
  scenarioNamespace,
  sandbox,
  warmPool,
  type Sandbox,
  type WarmPool,
} from "./support/scenario.js";

const NAMESPACE = "e2e-burst";
const BURST = 20;
const POOL = 5;
/**
 * With Metacontroller's default client limits (5 requests a second) this burst took a minute; the
 * install guide's component lets it finish in a few seconds on this 2-core machine.
 */
const ALL_RUNNING_WITHIN_MS = 10_000;

describe("a burst of Sandboxes through the real Metacontroller", function () {
  this.timeout(120_000);

  before(async () => {
    await scenarioNamespace(NAMESPACE);
  });

  it(`burst › ${BURST} Sandboxes at once against a pool of ${POOL} › ${POOL} claims, one owner per pod, none orphaned, all Running within ${ALL_RUNNING_WITHIN_MS / 1000} s`, async () => {
    await apply(warmPool(NAMESPACE, "burst", { minSize: POOL, maxSize: POOL }));
    await poolReady(NAMESPACE, "burst", POOL);
    // The pool replaces claimed pods at once; held back here, so that the burst meets exactly the
    // pods that were Ready when it started.
    const release = env().kubelet.hold((pod) => pod.metadata.labels?.pool === "burst");
    try {
      const conflictsBefore = metricValue(await env().hooks.metrics(), "llmsafespace_warm_pod_claim_conflicts_total");
      const started = Date.now();
      await Promise.all(
        Array.from({ length: BURST }, (_, i) => env().cluster.client.create(sandbox(NAMESPACE, `burst-${String(i).padStart(2, "0")}`, {}, WARM))),
      );
      const sandboxes = await eventually(
        `all ${BURST} Sandboxes Running`,
        async () => {
          const all = await list<Sandbox>(`/apis/${GROUP_VERSION}/namespaces/${NAMESPACE}/sandboxes`);
          return all.length === BURST && all.every((s) => s.status?.phase === "Running") ? all : undefined;
        },
        60_000,
        async () => (await list<Sandbox>(`/apis/${GROUP_VERSION}/namespaces/${NAMESPACE}/sandboxes`)).map((s) => `${s.metadata.name}: ${s.status?.phase ?? "-"}`).join(", "),
      );
      const elapsed = Date.now() - started;
      console.log(`      (${BURST} Sandboxes Running ${elapsed} ms after they were created)`);

      const warm = sandboxes.filter((s) => condition(s, "WarmPodClaimed")?.status === "True");
      assert.equal(warm.length, POOL, sandboxes.map((s) => `${s.metadata.name}: ${condition(s, "WarmPodClaimed")?.reason ?? "-"}`).join(", "));
      for (const cold of sandboxes.filter((s) => !warm.includes(s))) {
        assert.equal(condition(cold, "WarmPodClaimed")?.reason, "NoWarmPodAvailable", cold.metadata.name);
      }

      // Every pod has exactly one controller, which exists; every Sandbox has exactly one pod.
      const owners = new Map<string, string>([
        ...sandboxes.map((s) => [s.metadata.uid, `Sandbox ${s.metadata.name}`] as const),
        ...(await list<WarmPool>(`/apis/${GROUP_VERSION}/namespaces/${NAMESPACE}/warmpools`)).map((p) => [p.metadata.uid, `WarmPool ${p.metadata.name}`] as const),
      ]);
      const podsOf = new Map<string, string[]>();
      for (const pod of await pods(NAMESPACE)) {
        const controllers = pod.metadata.ownerReferences?.filter((ref) => ref.controller === true) ?? [];
        assert.equal(controllers.length, 1, `pod ${pod.metadata.name}: ${JSON.stringify(pod.metadata.ownerReferences)}`);
        const controller = controllers[0]?.uid ?? "";
        assert.ok(owners.has(controller), `pod ${pod.metadata.name} is orphaned: its controller ${controller} does not exist`);
        assert.equal(pod.metadata.labels?.["controller-uid"], controller, pod.metadata.name);
        podsOf.set(controller, [...(podsOf.get(controller) ?? []), pod.metadata.name]);
      }
      for (const s of sandboxes) assert.deepEqual(podsOf.get(s.metadata.uid), [s.status?.podName], s.metadata.name);
      assert.equal(new Set(warm.map((s) => s.status?.podName)).size, POOL);

      const conflicts = metricValue(await env().hooks.metrics(), "llmsafespace_warm_pod_claim_conflicts_total") - conflictsBefore;
      assert.equal(conflicts, 0, "claims through one hook server never race each other");
      assert.ok(elapsed <= ALL_RUNNING_WITHIN_MS, `all Running after ${elapsed} ms`);
    } finally {
      release();
    }
  });
});
