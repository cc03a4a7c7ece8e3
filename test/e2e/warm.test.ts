/**
 * Warm pools through the real Metacontroller, on an API server with
 * OwnerReferencesPermissionEnforcement on and the hook server holding exactly the RBAC in
 * metacontroller/: a claim, a claim given back, and a pool deleted under a claimed pod.
 */
import assert from "node:assert/strict";
import { env } from "./setup.js";
import {
  GROUP_VERSION,
  WARM,
  apply,
  condition,
  eventually,
  getPool,
  getSandbox,
  kubectl,
  pods,
  poolReady,
  record,
  restrictedNamespace,
  scenarioNamespace,
  running,
  sandbox,
  warmPool,
  type Pod,
  type Sandbox,
} from "./support/scenario.js";

const NAMESPACE = "e2e-warm";

describe("warm pools through the real Metacontroller", function () {
  this.timeout(120_000);

  before(async () => {
    await scenarioNamespace(NAMESPACE);
  });

  it("warm claim › a Sandbox asks a Ready pool › it takes a pod, and its first status already says Running", async () => {
    await apply(warmPool(NAMESPACE, "claim"));
    await poolReady(NAMESPACE, "claim", 2);
    const watch = await record(`/apis/${GROUP_VERSION}/namespaces/${NAMESPACE}/sandboxes`);
    try {
      await apply(sandbox(NAMESPACE, "takes", {}, WARM));
      const done = await running(NAMESPACE, "takes");
      const status = done.status ?? {};
      assert.equal(condition(done, "WarmPodClaimed")?.status, "True", JSON.stringify(status));
      assert.equal(status.warmPodRef?.pool, "claim");

      // The sync that claimed the pod wrote the first status: Running, with its endpoint.
      const firstStatus = (watch.seen as Sandbox[]).find((s) => s.metadata.name === "takes" && s.status !== undefined)?.status;
      assert.deepEqual(
        [firstStatus?.phase, firstStatus?.podName, firstStatus?.endpoint],
        ["Running", status.podName, `sandbox-takes.${NAMESPACE}.svc.cluster.local`],
      );

      // The pod is the Sandbox's now: its controller, its labels; the pool stays a plain owner.
      const [pod] = await pods(NAMESPACE, `llmsafespace.dev/claimed-by=${done.metadata.uid}`);
      assert.ok(pod !== undefined, "no pod claimed by the Sandbox");
      assert.equal(pod.metadata.name, status.podName);
      const controllers = pod.metadata.ownerReferences?.filter((ref) => ref.controller === true) ?? [];
      assert.deepEqual(controllers.map((ref) => [ref.kind, ref.uid]), [["Sandbox", done.metadata.uid]]);
      assert.equal(pod.metadata.labels?.["controller-uid"], done.metadata.uid);
    } finally {
      watch.stop();
    }
  });

  it("release › a claim lands after its Sandbox started cold › the extra pod goes back to its pool", async () => {
    await apply(warmPool(NAMESPACE, "late"));
    const pool = await poolReady(NAMESPACE, "late", 2);
    await apply(sandbox(NAMESPACE, "late-cold"));
    const cold = await running(NAMESPACE, "late-cold");
    assert.equal(cold.status?.podName, "sandbox-late-cold");

    // A claim of this Sandbox's that landed too late: the patch a claim makes (SPEC §6, step 4),
    // made here by the admin, so the hook server finds a second pod for the Sandbox.
    const [late] = await pods(NAMESPACE, "pool=late,llmsafespace.dev/warm-state=available");
    assert.ok(late !== undefined);
    const uid = cold.metadata.uid;
    const claimed = await env().cluster.client.request(
      "PATCH",
      `/api/v1/namespaces/${NAMESPACE}/pods/${late.metadata.name}`,
      [
        { op: "test", path: "/metadata/labels/llmsafespace.dev~1warm-state", value: "available" },
        { op: "replace", path: "/metadata/labels/llmsafespace.dev~1warm-state", value: "claimed" },
        { op: "add", path: "/metadata/labels/llmsafespace.dev~1claimed-by", value: uid },
        { op: "add", path: "/metadata/labels/sandbox-id", value: "late-cold" },
        { op: "add", path: "/metadata/labels/sandbox-uid", value: uid },
        { op: "replace", path: "/metadata/labels/controller-uid", value: uid },
        {
          op: "replace",
          path: "/metadata/ownerReferences",
          value: [
            { apiVersion: GROUP_VERSION, kind: "Sandbox", name: "late-cold", uid, controller: true, blockOwnerDeletion: true },
            { apiVersion: GROUP_VERSION, kind: "WarmPool", name: "late", uid: pool.metadata.uid, controller: false },
          ],
        },
      ],
      "application/json-patch+json",
    );
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body));

    // The hook server releases it with its own rights: the pool is its controller again.
    const released = await eventually(`pod ${late.metadata.name} back in pool late`, async () => {
      const [pod] = (await pods(NAMESPACE, `pool=late`)).filter((p) => p.metadata.name === late.metadata.name);
      const controller = pod?.metadata.ownerReferences?.find((ref) => ref.controller === true);
      return pod?.metadata.labels?.["llmsafespace.dev/warm-state"] === "available" && controller?.uid === pool.metadata.uid ? pod : undefined;
    });
    assert.equal(released.metadata.labels?.["llmsafespace.dev/claimed-by"], undefined);
    assert.equal(released.metadata.labels?.["controller-uid"], pool.metadata.uid);
    assert.equal(released.metadata.deletionTimestamp, undefined);
    const after = await getSandbox(NAMESPACE, "late-cold");
    assert.deepEqual([after?.status?.phase, after?.status?.podName], ["Running", "sandbox-late-cold"]);
  });

  it("pool deletion › a WarmPool deleted while one of its pods is claimed › the claimed pod survives", async () => {
    // A namespace of its own: the one pool there is the one the Sandbox claims from.
    const NAMESPACE = await restrictedNamespace("e2e-warm-pool-deletion");
    await apply(warmPool(NAMESPACE, "doomed"));
    await poolReady(NAMESPACE, "doomed", 2);
    await apply(sandbox(NAMESPACE, "survivor", {}, WARM));
    const survivor = await running(NAMESPACE, "survivor");
    const podName = survivor.status?.podName ?? "";
    assert.equal(survivor.status?.warmPodRef?.pool, "doomed");

    await kubectl("delete", "warmpool", "doomed", "-n", NAMESPACE, "--wait", "--timeout=60s");
    assert.equal(await getPool(NAMESPACE, "doomed"), undefined);
    // Its other pods go; the claimed one stays, and so does its Sandbox.
    await eventually("the pool's unclaimed pods gone", async () => {
      const left = (await pods(NAMESPACE, "pool=doomed")).filter((p) => p.metadata.deletionTimestamp === undefined);
      return left.length === 1 ? left : undefined;
    });
    const kept: Pod | undefined = (await pods(NAMESPACE, "pool=doomed"))[0];
    assert.equal(kept?.metadata.name, podName);
    assert.equal(kept.metadata.deletionTimestamp, undefined);
    // The garbage collector drops the reference to the deleted pool, never the pod.
    await eventually("the pool's owner reference dropped", async () => {
      const [pod] = await pods(NAMESPACE, "pool=doomed");
      return pod !== undefined && pod.metadata.ownerReferences?.every((ref) => ref.kind === "Sandbox") === true ? pod : undefined;
    });
    const after = await getSandbox(NAMESPACE, "survivor");
    assert.deepEqual([after?.status?.phase, after?.status?.podName], ["Running", podName]);
  });
});
