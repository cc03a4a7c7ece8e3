/**
 * A Sandbox's life on a real API server, with this test playing Metacontroller (customize,
 * related objects, sync, creating children with the parent's controller reference and
 * generated-selector label, writing status) and the kubelet (reporting the pod Ready): from the
 * README's first example to a Running Sandbox, then to its deletion. Metacontroller itself
 * cannot run here; its hook contract is what the rest of the suite checks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import request from "supertest";
import { testApp } from "../support/app.js";
import { EXAMPLES, kindOf, yamlObjects } from "../support/manifests.js";
import { KubeClient, describeStatus, type KubeObjectLike } from "./support/kube.js";
import { cluster } from "./setup.js";

interface Sandbox extends KubeObjectLike {
  metadata: KubeObjectLike["metadata"] & { uid: string; generation: number };
  status?: { phase?: string; endpoint?: string; podName?: string; conditions?: { type: string; status: string }[] };
}

interface RelatedRule {
  apiVersion: string;
  resource: string;
  namespace?: string;
  names?: string[];
}

const app = testApp({ now: new Date().toISOString() });

async function hook(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await request(app).post(path).set("content-type", "application/json").send(JSON.stringify(body));
  assert.equal(response.status, 200, response.text);
  return response.body as Record<string, unknown>;
}

/** A parent's children as Metacontroller sees them: what carries its generated-selector label. */
async function observedChildren(uid: string): Promise<Record<string, Record<string, KubeObjectLike>>> {
  const client = cluster().client;
  const children: Record<string, Record<string, KubeObjectLike>> = {};
  for (const [kind, path] of [
    ["Pod.v1", "/api/v1/namespaces/team-a/pods"],
    ["Service.v1", "/api/v1/namespaces/team-a/services"],
    ["ServiceAccount.v1", "/api/v1/namespaces/team-a/serviceaccounts"],
    ["NetworkPolicy.networking.k8s.io/v1", "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies"],
    ["PersistentVolumeClaim.v1", "/api/v1/namespaces/team-a/persistentvolumeclaims"],
  ] as const) {
    const list = await client.request<{ items: KubeObjectLike[] }>("GET", `${path}?labelSelector=${encodeURIComponent(`controller-uid=${uid}`)}`);
    const [kindName, apiVersion] = [kind.split(".")[0] ?? "", kind.slice(kind.indexOf(".") + 1)];
    children[kind] = Object.fromEntries(list.body.items.map((item) => [`team-a/${item.metadata.name}`, { ...item, apiVersion, kind: kindName }]));
  }
  return children;
}

/** One Metacontroller reconcile of a Sandbox: customize, sync, create missing children, write status. */
async function reconcile(name: string): Promise<Sandbox> {
  const client = cluster().client;
  const parent = (await client.get<Sandbox>({ apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", metadata: { name, namespace: "team-a" } })).body;
  const { relatedResources } = (await hook("/sandbox/customize", { parent })) as { relatedResources: RelatedRule[] };
  const related: Record<string, Record<string, KubeObjectLike>> = {};
  for (const rule of relatedResources) {
    for (const relatedName of rule.names ?? []) {
      const kind = kindOf(rule.resource);
      const found = await client.get({ apiVersion: rule.apiVersion, kind, metadata: { name: relatedName, ...(rule.namespace !== undefined ? { namespace: rule.namespace } : {}) } });
      if (found.status === 200) (related[`${kind}.${rule.apiVersion}`] ??= {})[relatedName] = found.body;
    }
  }
  const children = await observedChildren(parent.metadata.uid);
  const answer = (await hook("/sandbox/sync", { parent, children, related })) as { children: KubeObjectLike[]; status: Record<string, unknown> };
  for (const child of answer.children) {
    const key = `${child.kind}.${child.apiVersion}`;
    if (children[key]?.[`team-a/${child.metadata.name}`] !== undefined) continue;
    const owned = {
      ...child,
      metadata: {
        ...child.metadata,
        labels: { ...(child.metadata.labels as Record<string, string>), "controller-uid": parent.metadata.uid },
        ownerReferences: [{ apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", name, uid: parent.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
    };
    const created = await client.create(owned);
    assert.equal(created.status, 201, `${child.kind} ${child.metadata.name}: ${describeStatus(created)}`);
  }
  await deleteLeftOut(children, answer.children);
  const written = await client.replaceStatus<Sandbox>({ ...parent, status: { ...answer.status, observedGeneration: parent.metadata.generation } });
  assert.equal(written.status, 200, describeStatus(written));
  return written.body;
}

/** One finalize call, as Metacontroller makes it for a deleted parent; deletes what it leaves out. */
async function finalize(name: string): Promise<{ finalized: boolean; deleted: number }> {
  const client = cluster().client;
  const parent = (await client.get<Sandbox>({ apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", metadata: { name, namespace: "team-a" } })).body;
  const children = await observedChildren(parent.metadata.uid);
  const answer = (await hook("/sandbox/finalize", { parent, children, finalizing: true })) as { children: KubeObjectLike[]; finalized: boolean };
  return { finalized: answer.finalized, deleted: await deleteLeftOut(children, answer.children) };
}

/**
 * What Metacontroller does with the observed children an answer leaves out: deletes them, but
 * for those already being deleted. Returns how many it deleted.
 */
async function deleteLeftOut(observed: Record<string, Record<string, KubeObjectLike>>, answered: readonly KubeObjectLike[]): Promise<number> {
  const kept = new Set(answered.map((c) => `${c.kind}/${c.metadata.name}`));
  let deleted = 0;
  for (const child of Object.values(observed).flatMap((group) => Object.values(group))) {
    if (kept.has(`${child.kind}/${child.metadata.name}`)) continue;
    if ((child.metadata as { deletionTimestamp?: string }).deletionTimestamp !== undefined) continue;
    const response = await cluster().client.delete(child);
    assert.equal(response.status, 200, `${child.kind} ${child.metadata.name}: ${describeStatus(response)}`);
    deleted++;
  }
  return deleted;
}

/** The kubelet's part: the pod runs and is Ready. */
async function markReady(podName: string): Promise<void> {
  const client = cluster().client;
  const pod = (await client.get({ apiVersion: "v1", kind: "Pod", metadata: { name: podName, namespace: "team-a" } })).body;
  const ready = await client.replaceStatus({
    ...pod,
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") }] },
  });
  assert.equal(ready.status, 200, describeStatus(ready));
}

/** A merge patch of a Sandbox's spec, as `kubectl patch --type merge` sends it. */
async function patchSpec(name: string, spec: Record<string, unknown>): Promise<void> {
  const path = `${KubeClient.collectionPath({ apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", metadata: { name, namespace: "team-a" } })}/${name}`;
  const patched = await cluster().client.request("PATCH", path, { spec }, "application/merge-patch+json");
  assert.equal(patched.status, 200, describeStatus(patched));
}

/** Each child's uid, by `Kind/name`: what stays the same object across a suspension. */
async function childUids(uid: string): Promise<Map<string, string>> {
  const children = await observedChildren(uid);
  return new Map(
    Object.values(children)
      .flatMap((group) => Object.values(group))
      .map((child) => [`${child.kind}/${child.metadata.name}`, (child.metadata as { uid?: string }).uid ?? ""]),
  );
}

describe("a Sandbox's life on a real API server", function () {
  this.timeout(60_000);

  it("lifecycle › the README's first example › Pending, then Creating, then Running with an endpoint", async () => {
    const client = cluster().client;
    for (const file of ["runtimeenvironment-python-3.10.yaml", "sandbox-standard.yaml"]) {
      for (const object of yamlObjects(join(EXAMPLES, file))) {
        const created = await client.create(object);
        assert.ok(created.status === 201 || created.status === 409, `${object.kind}: ${describeStatus(created)}`);
      }
    }
    // The first sync asks for the ServiceAccount, Service and NetworkPolicies; the pod waits
    // for the sync that observes its ServiceAccount (SPEC §4.2).
    const first = await reconcile("demo");
    assert.equal(first.status?.phase, "Pending");
    const podPath = { apiVersion: "v1", kind: "Pod", metadata: { name: "sandbox-demo", namespace: "team-a" } };
    assert.equal((await client.get(podPath)).status, 404);

    const second = await reconcile("demo");
    assert.equal(second.status?.phase, "Pending");
    assert.equal((await client.get(podPath)).status, 200);

    const third = await reconcile("demo");
    assert.equal(third.status?.phase, "Creating");
    assert.equal(third.status.podName, "sandbox-demo");

    await markReady("sandbox-demo");

    const running = await reconcile("demo");
    assert.equal(running.status?.phase, "Running", JSON.stringify(running.status));
    assert.equal(running.status.endpoint, "sandbox-demo.team-a.svc.cluster.local");
    assert.equal(running.status.conditions?.find((c) => c.type === "Ready")?.status, "True");

    // Steady state: another resync changes nothing.
    const again = await reconcile("demo");
    assert.deepEqual(again.status, running.status);

    // Deleted: finalize returns no children, so they are deleted; then it says finalized.
    const gone = await finalize("demo");
    assert.deepEqual(gone, { finalized: false, deleted: 6 });
    assert.deepEqual(await finalize("demo"), { finalized: true, deleted: 0 });
    const removed = await client.delete({ apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", metadata: { name: "demo", namespace: "team-a" } });
    assert.equal(removed.status, 200, describeStatus(removed));
  });

  it("suspend › the idle example, suspended then resumed › its pod deleted, every other child the same object, then a new pod on the same claim", async () => {
    const client = cluster().client;
    for (const object of yamlObjects(join(EXAMPLES, "sandbox-idle.yaml"))) {
      const created = await client.create(object);
      assert.equal(created.status, 201, `${object.kind}: ${describeStatus(created)}`);
    }
    await reconcile("notebook");
    await reconcile("notebook");
    await markReady("sandbox-notebook");
    const running = await reconcile("notebook");
    assert.equal(running.status?.phase, "Running", JSON.stringify(running.status));
    const before = await childUids(running.metadata.uid);
    assert.deepEqual([...before.keys()].sort(), [
      "NetworkPolicy/sandbox-notebook-api-access",
      "NetworkPolicy/sandbox-notebook-default-deny",
      "NetworkPolicy/sandbox-notebook-dns-access",
      "PersistentVolumeClaim/sandbox-notebook-data",
      "Pod/sandbox-notebook",
      "Service/sandbox-notebook",
      "ServiceAccount/sandbox-notebook",
    ]);

    await patchSpec("notebook", { suspend: true });
    const suspended = await reconcile("notebook");
    assert.equal(suspended.status?.phase, "Suspended", JSON.stringify(suspended.status));
    assert.equal(suspended.status.conditions?.find((c) => c.type === "Suspended")?.status, "True");
    // The API server removes a pod no node runs at once; every other child is the object it was.
    const asleep = await childUids(running.metadata.uid);
    assert.deepEqual(asleep, new Map([...before].filter(([key]) => key !== "Pod/sandbox-notebook")));
    assert.deepEqual((await reconcile("notebook")).status, suspended.status, "a resync of a suspended Sandbox changes nothing");

    await patchSpec("notebook", { suspend: false });
    const resumed = await reconcile("notebook");
    assert.equal(resumed.status?.phase, "Pending", JSON.stringify(resumed.status));
    const awake = await childUids(running.metadata.uid);
    const newPod = awake.get("Pod/sandbox-notebook");
    assert.ok(newPod !== undefined && newPod !== before.get("Pod/sandbox-notebook"), "a new pod, not the old one");
    assert.deepEqual(new Map([...awake].filter(([key]) => !key.startsWith("Pod/"))), asleep);
    const pod = (await client.get<{ spec: { volumes?: { persistentVolumeClaim?: { claimName: string } }[] } }>({ apiVersion: "v1", kind: "Pod", metadata: { name: "sandbox-notebook", namespace: "team-a" } })).body;
    assert.ok(pod.spec.volumes?.some((v) => v.persistentVolumeClaim?.claimName === "sandbox-notebook-data"), JSON.stringify(pod.spec.volumes));
    await markReady("sandbox-notebook");
    const again = await reconcile("notebook");
    assert.equal(again.status?.phase, "Running", JSON.stringify(again.status));
    assert.equal(again.status.conditions?.find((c) => c.type === "Suspended")?.status, "False");

    assert.deepEqual(await finalize("notebook"), { finalized: false, deleted: 7 });
    // The claim waits for its protection finalizer, which kube-controller-manager removes once no
    // pod uses it (this tier does not run it; the real-Metacontroller tier does). Until then the
    // Sandbox is not finalized.
    assert.deepEqual(await finalize("notebook"), { finalized: false, deleted: 0 });
    const claimPath = "/api/v1/namespaces/team-a/persistentvolumeclaims/sandbox-notebook-data";
    const released = await client.request("PATCH", claimPath, { metadata: { finalizers: null } }, "application/merge-patch+json");
    assert.equal(released.status, 200, describeStatus(released));
    assert.deepEqual(await finalize("notebook"), { finalized: true, deleted: 0 });
    const removed = await client.delete({ apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", metadata: { name: "notebook", namespace: "team-a" } });
    assert.equal(removed.status, 200, describeStatus(removed));
  });
});
