/**
 * What must hold across restarts: a settled Sandbox and WarmPool are not written again when
 * Metacontroller syncs them anew (no write loop), and a hook server that goes away and comes
 * back loses nothing and doubles nothing.
 */
import assert from "node:assert/strict";
import { env, expectOutage } from "./setup.js";
import {
  GROUP_VERSION,
  WARM,
  apply,
  eventually,
  getPool,
  getSandbox,
  list,
  metricValue,
  pods,
  poolReady,
  scenarioNamespace,
  running,
  sandbox,
  warmPool,
} from "./support/scenario.js";

const NAMESPACE = "e2e-resilience";

/** resourceVersion of the parents and every object in the namespace, by kind and name. */
async function versions(): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for (const path of [
    `/apis/${GROUP_VERSION}/namespaces/${NAMESPACE}/sandboxes`,
    `/apis/${GROUP_VERSION}/namespaces/${NAMESPACE}/warmpools`,
    `/api/v1/namespaces/${NAMESPACE}/pods`,
    `/api/v1/namespaces/${NAMESPACE}/services`,
    `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`,
    `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`,
  ]) {
    for (const object of await list(path)) {
      seen[`${path.split("/").pop() ?? ""}/${object.metadata.name}`] = String(object.metadata.resourceVersion);
    }
  }
  return seen;
}

/** How many times the hook server has answered a hook, by hook. */
async function hookCalls(hook: string): Promise<number> {
  return metricValue(await env().hooks.metrics(), "llmsafespace_hook_requests_total", { hook });
}

describe("resilience through the real Metacontroller", function () {
  this.timeout(120_000);

  before(async () => {
    await scenarioNamespace(NAMESPACE);
  });

  it("resync › a settled Sandbox and WarmPool, Metacontroller restarted › synced again, nothing written", async () => {
    await apply(warmPool(NAMESPACE, "steady"));
    await poolReady(NAMESPACE, "steady", 2);
    await apply(sandbox(NAMESPACE, "steady-warm", {}, WARM), sandbox(NAMESPACE, "steady-cold"));
    await running(NAMESPACE, "steady-warm");
    await running(NAMESPACE, "steady-cold");
    await poolReady(NAMESPACE, "steady", 2);
    // Settled: the last writes have been observed, and a moment passes with none.
    let before = await versions();
    await eventually("no write for 2 s", async () => {
      await new Promise((done) => setTimeout(done, 2_000));
      const now = await versions();
      const settled = JSON.stringify(now) === JSON.stringify(before);
      before = now;
      return settled ? true : undefined;
    });

    // A restarted Metacontroller lists everything and syncs every parent again: as many syncs as
    // there are parents in the cluster (the tier's earlier files left many), these among them.
    const [sandboxSyncs, poolSyncs] = [await hookCalls("sandbox/sync"), await hookCalls("warmpool/sync")];
    const parents = {
      sandboxes: (await list(`/apis/${GROUP_VERSION}/sandboxes`)).length,
      pools: (await list(`/apis/${GROUP_VERSION}/warmpools`)).length,
    };
    await env().metacontroller.stop();
    await env().metacontroller.start();
    await eventually("every parent synced again", async () =>
      (await hookCalls("sandbox/sync")) >= sandboxSyncs + parents.sandboxes && (await hookCalls("warmpool/sync")) >= poolSyncs + parents.pools
        ? true
        : undefined,
    );
    await new Promise((done) => setTimeout(done, 2_000));
    assert.deepEqual(await versions(), before);
  });

  it("hook server › stopped while a Sandbox is created, then started › the Sandbox reaches Running with one pod", async function () {
    expectOutage(this);
    await apply(warmPool(NAMESPACE, "outage"));
    await poolReady(NAMESPACE, "outage", 2);
    await env().hooks.stop();
    await apply(sandbox(NAMESPACE, "during-outage", {}, WARM));
    // Metacontroller calls, fails, and backs off.
    await eventually("Metacontroller met the outage", () =>
      Promise.resolve(env().metacontroller.errorsAboutParents(Date.now() - 60_000).length > 0 ? true : undefined),
    );
    assert.equal((await getSandbox(NAMESPACE, "during-outage"))?.status, undefined);
    await env().hooks.start();
    const back = await running(NAMESPACE, "during-outage", 60_000);
    const recovered = Date.now();
    assert.deepEqual((await pods(NAMESPACE, `controller-uid=${back.metadata.uid}`)).map((p) => p.metadata.name), [back.status?.podName]);
    // Once it is back, no more errors.
    await new Promise((done) => setTimeout(done, 2_000));
    assert.deepEqual(env().metacontroller.errorsAboutParents(recovered).map((line) => line.text), []);
    assert.ok((await getPool(NAMESPACE, "outage")) !== undefined);
  });

  it("hook server › restarted (SIGTERM, as a rollout does) › Sandboxes created right after it reach Running, no error after", async function () {
    // A resync that lands while the server is down fails, and Metacontroller retries it.
    expectOutage(this);
    await env().hooks.restart();
    const back = Date.now();
    await apply(sandbox(NAMESPACE, "after-restart"), sandbox(NAMESPACE, "after-restart-warm", {}, WARM));
    await running(NAMESPACE, "after-restart");
    await running(NAMESPACE, "after-restart-warm");
    assert.deepEqual(env().metacontroller.errorsAboutParents(back).map((line) => line.text), []);
  });
});
