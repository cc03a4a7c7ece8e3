/**
 * Sandboxes that sleep and wake through the real Metacontroller (issue #14): a persistent Sandbox
 * suspended and resumed keeps its workspace, and an idle one suspends itself on the deadline the
 * sync hook asks Metacontroller to come back at, with nothing written to it but the annotation,
 * and only a change to spec.suspend wakes it.
 */
import assert from "node:assert/strict";
import { env } from "./setup.js";
import { apply, condition, eventually, getSandbox, gone, inPhase, kubectl, list, metricValue, pods, running, sandbox, scenarioNamespace, type Sandbox } from "./support/scenario.js";

const NAMESPACE = "e2e-suspend";

/** Waits until the Sandbox is Suspended; returns it. */
function suspended(name: string, timeoutMs = 30_000): Promise<Sandbox> {
  return inPhase(NAMESPACE, name, "Suspended", timeoutMs);
}

/** The uid of each object at `path` for the Sandbox, by name. */
async function uids(path: string, name: string): Promise<Map<string, string>> {
  const objects = await list<{ apiVersion: string; kind: string; metadata: { name: string; uid: string } }>(path, `sandbox-id=${name}`);
  return new Map(objects.map((o) => [o.metadata.name, o.metadata.uid]));
}

/** Everything of a Sandbox but its pod, which a suspension keeps: name → uid. */
async function keptChildren(name: string): Promise<Map<string, string>> {
  const kept = new Map<string, string>();
  for (const path of [
    `/api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims`,
    `/api/v1/namespaces/${NAMESPACE}/services`,
    `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`,
    `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`,
  ]) {
    for (const [child, uid] of await uids(path, name)) kept.set(`${path.split("/").pop() ?? ""}/${child}`, uid);
  }
  return kept;
}

describe("suspend and resume through the real Metacontroller", function () {
  this.timeout(120_000);

  before(async () => {
    await scenarioNamespace(NAMESPACE);
  });

  it("suspend › a persistent Sandbox suspended, then resumed › its pod goes and the rest stays; a new pod on the same claim reaches Running", async () => {
    const suspendsBefore = metricValue(await env().hooks.metrics(), "llmsafespace_sandbox_suspends_total", { reason: "Requested" });
    await apply(sandbox(NAMESPACE, "workspace", { storage: { persistent: true, volumeSize: "1Gi" } }));
    const first = await running(NAMESPACE, "workspace");
    const [firstPod] = await pods(NAMESPACE, "sandbox-id=workspace");
    assert.ok(firstPod !== undefined);
    const kept = await keptChildren("workspace");
    assert.ok(kept.has("persistentvolumeclaims/sandbox-workspace-data"), [...kept.keys()].join(", "));

    await kubectl("patch", "sandbox", "workspace", "-n", NAMESPACE, "--type", "merge", "-p", '{"spec":{"suspend":true}}');
    const asleep = await suspended("workspace");
    assert.equal(condition(asleep, "Suspended")?.reason, "Requested");
    await gone("the suspended Sandbox's pod", `/api/v1/namespaces/${NAMESPACE}/pods`, "sandbox-id=workspace");
    assert.deepEqual(await keptChildren("workspace"), kept, "the claim, Service, ServiceAccount and NetworkPolicies are the same objects");

    await kubectl("patch", "sandbox", "workspace", "-n", NAMESPACE, "--type", "merge", "-p", '{"spec":{"suspend":false}}');
    const awake = await running(NAMESPACE, "workspace");
    assert.equal(condition(awake, "Suspended")?.reason, "Resumed");
    assert.equal(typeof (awake.status as { lastResumeSeconds?: unknown }).lastResumeSeconds, "number", JSON.stringify(awake.status));
    assert.equal(awake.status?.startTime, first.status?.startTime, "startTime is the first start's");
    const [pod] = await pods(NAMESPACE, "sandbox-id=workspace");
    assert.ok(pod !== undefined && pod.metadata.uid !== firstPod.metadata.uid, "a new pod");
    const volumes = (pod as unknown as { spec: { volumes?: { persistentVolumeClaim?: { claimName: string } }[] } }).spec.volumes ?? [];
    assert.ok(volumes.some((v) => v.persistentVolumeClaim?.claimName === "sandbox-workspace-data"), JSON.stringify(volumes));
    assert.deepEqual(await keptChildren("workspace"), kept, "the same claim (its uid unchanged) serves the new pod");
    const suspends = metricValue(await env().hooks.metrics(), "llmsafespace_sandbox_suspends_total", { reason: "Requested" }) - suspendsBefore;
    assert.equal(suspends, 1, "one suspension counted");
  });

  it("idle › a Sandbox with a 3 s idleTimeout and one activity write › Suspended (Idle) at its deadline with nothing written to it but the annotation; an idleTimeout edit leaves it asleep, the patch its condition names wakes it", async () => {
    await apply(sandbox(NAMESPACE, "idle", { lifecycle: { idleTimeout: 3 } }));
    const started = await running(NAMESPACE, "idle");
    // The one write: activity now. It moves the deadline past the one counted from Ready.
    const activity = new Date().toISOString();
    await kubectl("annotate", "sandbox", "idle", "-n", NAMESPACE, "--overwrite", `llmsafespace.dev/last-activity=${activity}`);
    const asleep = await suspended("idle", 20_000);
    assert.equal(condition(asleep, "Suspended")?.reason, "Idle");
    assert.equal(condition(asleep, "Idle")?.status, "True");
    const since = Date.parse(condition(asleep, "Suspended")?.lastTransitionTime ?? "");
    // Condition times have whole seconds: the suspension is recorded no earlier than the second of the deadline.
    assert.ok(since >= Math.floor((Date.parse(activity) + 3000) / 1000) * 1000, `suspended at ${new Date(since).toISOString()}, activity at ${activity}`);
    // No spec write: the generation is the one it was created with.
    assert.equal(asleep.metadata.generation, started.metadata.generation);
    assert.equal(asleep.metadata.generation, 1);
    await gone("the idle Sandbox's pod", `/api/v1/namespaces/${NAMESPACE}/pods`, "sandbox-id=idle");

    // Another change to the spec does not wake it; the longer idleTimeout keeps it awake once resumed.
    await kubectl("patch", "sandbox", "idle", "-n", NAMESPACE, "--type", "merge", "-p", '{"spec":{"lifecycle":{"idleTimeout":600}}}');
    const edited = await eventually("the idleTimeout edit synced", async () => {
      const current = await getSandbox(NAMESPACE, "idle");
      return current?.status?.observedGeneration === 2 ? current : undefined;
    });
    assert.equal(edited.status?.phase, "Suspended");
    assert.equal(condition(edited, "Suspended")?.reason, "Idle");
    assert.deepEqual(await pods(NAMESPACE, "sandbox-id=idle"), [], "no pod for an idle Sandbox whose spec.suspend is unchanged");

    // The patch the Suspended condition names wakes it.
    const patch = /-p '(.+)'/.exec(condition(edited, "Suspended")?.message ?? "")?.[1];
    assert.equal(patch, '{"spec":{"suspend":false}}', condition(edited, "Suspended")?.message);
    await kubectl("patch", "sandbox", "idle", "-n", NAMESPACE, "--type", "merge", "-p", patch);
    const awake = await running(NAMESPACE, "idle");
    assert.equal(condition(awake, "Suspended")?.reason, "Resumed");
  });
});
