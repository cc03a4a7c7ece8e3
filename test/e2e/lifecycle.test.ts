/**
 * The end of a Sandbox's life through the real Metacontroller and kube-controller-manager: its
 * lifetime runs out, and it is deleted (finalize hook, finalizer released, every child gone,
 * the data volume too once no pod uses it), alone or with its whole namespace.
 */
import assert from "node:assert/strict";
import { env } from "./setup.js";
import { WARM, apply, condition, getPool, getSandbox, gone, inPhase, kubectl, pods, poolReady, restrictedNamespace, scenarioNamespace, running, sandbox, warmPool } from "./support/scenario.js";

const NAMESPACE = "e2e-lifecycle";

/** Every kind of child a Sandbox may have, as collection paths in the namespace. */
const CHILD_PATHS = [
  `/api/v1/namespaces/${NAMESPACE}/pods`,
  `/api/v1/namespaces/${NAMESPACE}/services`,
  `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`,
  `/api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims`,
  `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`,
];

describe("a Sandbox's end through the real Metacontroller", function () {
  this.timeout(120_000);

  before(async () => {
    await scenarioNamespace(NAMESPACE);
  });

  it("lifetime › a Sandbox with a 3 s timeout › Terminated, Expired=True, its pod deleted, the Sandbox kept", async () => {
    await apply(sandbox(NAMESPACE, "brief", { timeout: 3 }));
    const started = await running(NAMESPACE, "brief");
    // Metacontroller wakes it when the lifetime ends (resyncAfterSeconds), not at the next resync.
    const ended = await inPhase(NAMESPACE, "brief", "Terminated", 15_000);
    assert.equal(condition(ended, "Expired")?.status, "True");
    assert.equal(ended.status?.startTime, started.status?.startTime);
    await gone("the expired Sandbox's pod", `/api/v1/namespaces/${NAMESPACE}/pods`, "sandbox-id=brief");
    // The rest stays until the Sandbox is deleted.
    assert.ok((await getSandbox(NAMESPACE, "brief")) !== undefined);
  });

  it("deletion › a Sandbox with persistent storage deleted › finalizer released, every child gone", async () => {
    await apply(sandbox(NAMESPACE, "kept", { storage: { persistent: true, volumeSize: "1Gi" } }));
    const live = await running(NAMESPACE, "kept");
    assert.ok(live.metadata.finalizers?.includes("metacontroller.io/compositecontroller-sandboxes.llmsafespace.dev"), JSON.stringify(live.metadata.finalizers));
    await kubectl("delete", "sandbox", "kept", "-n", NAMESPACE, "--wait", "--timeout=60s");
    assert.equal(await getSandbox(NAMESPACE, "kept"), undefined);
    for (const path of CHILD_PATHS) await gone(`the deleted Sandbox's ${path.split("/").pop() ?? ""}`, path, "sandbox-id=kept");
  });

  it("deletion › a namespace deleted with Sandboxes and a WarmPool in it › everything goes, and no new object is asked for", async () => {
    const doomed = await restrictedNamespace("e2e-doomed-namespace");
    await apply(warmPool(doomed, "pool"));
    await poolReady(doomed, "pool", 2);
    await apply(sandbox(doomed, "warm", {}, WARM), sandbox(doomed, "cold", { storage: { persistent: true } }));
    await running(doomed, "warm");
    await running(doomed, "cold");
    // The namespace controller deletes the children and the parents at once; Metacontroller
    // logs an error for every child a hook asks it to create there (the afterEach check).
    await kubectl("delete", "namespace", doomed, "--wait", "--timeout=120s");
    assert.equal((await env().cluster.client.request("GET", `/api/v1/namespaces/${doomed}`)).status, 404);
  });

  it("deletion › a WarmPool deleted › its pods are retired and go, then the pool", async () => {
    await apply(warmPool(NAMESPACE, "short"));
    await poolReady(NAMESPACE, "short", 2);
    await kubectl("delete", "warmpool", "short", "-n", NAMESPACE, "--wait", "--timeout=60s");
    assert.equal(await getPool(NAMESPACE, "short"), undefined);
    await gone("the deleted pool's pods", `/api/v1/namespaces/${NAMESPACE}/pods`, "pool=short");
    assert.deepEqual(await pods(NAMESPACE, "pool=short"), []);
  });
});
