/**
 * The sync hook with a warm-pod claimer: the claim is the hook's one side effect, so these
 * tests watch what the claimer was asked to take.
 */
import assert from "node:assert/strict";
import { sandboxSync, type SandboxTransition } from "../hooks/sandbox-sync.js";
import type { Sandbox } from "../src/api/api-types.js";
import { disabledClaimer, type ClaimRequest, type ClaimResult, type ReleaseResult, type WarmPodClaimer } from "../src/warm-pool/claimer.js";
import { loadConfig } from "../src/server/config.js";
import type { HookRequest, KubeObject } from "../src/api/metacontroller.js";
import type { ObservedPod } from "../src/api/observed.js";
import { startTimeOf } from "../src/sandbox/sandbox.js";
import { RequestValidators } from "../src/server/validation.js";
import { FIXTURE_NOW } from "./support/app.js";
import { fixtureCases } from "./support/fixtures.js";

/** A claimer over an in-memory pool: what it hands out is gone from the pool. */
class FakeClaimer implements WarmPodClaimer {
  readonly claims: ClaimRequest[] = [];
  constructor(private readonly answer: (request: ClaimRequest) => ClaimResult) {}
  readonly releases: string[] = [];
  claim(request: ClaimRequest): Promise<ClaimResult> {
    this.claims.push(request);
    return Promise.resolve(this.answer(request));
  }
  release(pod: { name: string }): Promise<ReleaseResult> {
    this.releases.push(pod.name);
    return Promise.resolve("released");
  }
}

const WARM_POD: KubeObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "python-pool-7k2xq",
    namespace: "team-a",
    labels: { app: "llmsafespace", component: "warmpod", pool: "python-pool", "sandbox-id": "demo" },
  },
};

/** The warm pod as the API server answers the claim: claimed a minute ago, Ready in its pool long before. */
const CLAIMED_READY: ObservedPod = {
  ...WARM_POD,
  metadata: { ...WARM_POD.metadata, annotations: { "llmsafespace.dev/claimed-at": "2026-11-29T11:59:30Z" } },
  status: {
    phase: "Running",
    conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-11-29T10:00:00Z" }],
  },
};

const claimedReady = (): ClaimResult => ({ outcome: "claimed", pod: WARM_POD, observed: CLAIMED_READY, pool: "python-pool" });

const validators = new RequestValidators();

/** A validated (and defaulted) request from a fixture, with an edit applied first. */
function requestFrom(name: string, edit: (body: HookRequest<Sandbox>) => void = () => undefined): HookRequest<Sandbox> {
  const fixture = fixtureCases("sandbox").find((c) => c.name === name);
  if (fixture === undefined) throw new Error(`no fixture ${name}`);
  const body = fixture.request() as unknown as HookRequest<Sandbox>;
  edit(body);
  const result = validators.validate<HookRequest<Sandbox>>("sandbox/sync", body);
  if (!result.ok) throw new Error(result.details.join("; "));
  return result.value;
}

function askForWarm(body: HookRequest<Sandbox>): void {
  body.parent.metadata.annotations = { "llmsafespace.dev/use-warm-pod": "true" };
}

function sync(request: HookRequest<Sandbox>, claimer: WarmPodClaimer) {
  return sandboxSync(request, { config: loadConfig({}), claimer, now: new Date(FIXTURE_NOW) });
}

describe("sandbox sync with a claimer", () => {
  it("sandboxSync › a warm pod is claimed › returns it as the one pod, with WarmPodClaimed=True", async () => {
    const claimer = new FakeClaimer(claimedReady);
    const response = await sync(requestFrom("standard-minimal", askForWarm), claimer);
    const pods = response.children.filter((c) => c.kind === "Pod");
    assert.deepEqual(pods, [WARM_POD]);
    const condition = response.status.conditions?.find((c) => c.type === "WarmPodClaimed");
    assert.equal(condition?.status, "True");
    assert.equal(condition.reason, "Claimed");
  });

  it("sandboxSync › a Ready warm pod is claimed › Running in the claiming sync, its lifetime from the claim", async () => {
    const claimer = new FakeClaimer(claimedReady);
    const response = await sync(requestFrom("standard-minimal", askForWarm), claimer);
    const ready = response.status.conditions?.find((c) => c.type === "Ready");
    assert.deepEqual(
      [response.status.phase, ready?.status, ready?.reason, response.status.startTime, response.status.endpoint],
      ["Running", "True", "PodRunning", "2026-11-29T11:59:30Z", "sandbox-demo.team-a.svc.cluster.local"],
    );
    // 300 s from the claim at 11:59:30, answered at 12:00:00.
    assert.equal(response.resyncAfterSeconds, 270);
    assert.deepEqual(response.status.warmPodRef, { name: "python-pool-7k2xq", namespace: "team-a", pool: "python-pool" });
  });

  it("sandboxSync › a warm pod that is not Ready yet is claimed › Creating, no start time", async () => {
    const starting: ObservedPod = { ...CLAIMED_READY, status: { phase: "Pending" } };
    const claimer = new FakeClaimer(() => ({ outcome: "claimed", pod: WARM_POD, observed: starting, pool: "python-pool" }));
    const response = await sync(requestFrom("standard-minimal", askForWarm), claimer);
    assert.deepEqual([response.status.phase, response.status.startTime, response.resyncAfterSeconds], ["Creating", undefined, undefined]);
  });

  it("sandboxSync › the claim asks for runtime and level › from the spec, or the annotations that override them", async () => {
    const claimer = new FakeClaimer(() => ({ outcome: "cold", reason: "NoWarmPodAvailable", message: "none" }));
    await sync(requestFrom("standard-minimal", askForWarm), claimer);
    await sync(
      requestFrom("standard-minimal", (body) => {
        body.parent.metadata.annotations = {
          "llmsafespace.dev/use-warm-pod": "true",
          "llmsafespace.dev/warm-pod-runtime": "python:3.11",
          "llmsafespace.dev/warm-pod-security-level": "high",
        };
      }),
      claimer,
    );
    assert.deepEqual(
      claimer.claims.map((c) => [c.runtime, c.securityLevel]),
      [
        ["python:3.10", "standard"],
        ["python:3.11", "high"],
      ],
    );
  });

  it("sandboxSync › no warm pod available › a cold pod and the claimer's reason", async () => {
    const claimer = new FakeClaimer(() => ({ outcome: "cold", reason: "NoWarmPodAvailable", message: "All 20 warm pods are taken." }));
    const response = await sync(requestFrom("standard-minimal", askForWarm), claimer);
    assert.deepEqual(
      response.children.filter((c) => c.kind === "Pod").map((p) => p.metadata.name),
      ["sandbox-demo"],
    );
    const condition = response.status.conditions?.find((c) => c.type === "WarmPodClaimed");
    assert.deepEqual([condition?.status, condition?.reason, condition?.message], ["False", "NoWarmPodAvailable", "All 20 warm pods are taken."]);
  });

  it("sandboxSync › no warm pod, ServiceAccount not created yet › no pod in this sync, and the claim is not asked again", async () => {
    const claimer = new FakeClaimer(() => ({ outcome: "cold", reason: "NoWarmPodAvailable", message: "All 20 warm pods are taken." }));
    const first = await sync(requestFrom("first-sync-waits-for-service-account", askForWarm), claimer);
    assert.deepEqual(first.children.filter((c) => c.kind === "Pod"), []);
    assert.equal(first.status.phase, "Pending");
    assert.match(first.status.conditions?.find((c) => c.type === "Ready")?.message ?? "", /once its ServiceAccount sandbox-demo exists/);

    // The next sync observes the ServiceAccount, and the status the first one wrote.
    const second = await sync(
      requestFrom("standard-minimal", (body) => {
        askForWarm(body);
        body.parent.status = first.status;
      }),
      claimer,
    );
    assert.deepEqual(second.children.filter((c) => c.kind === "Pod").map((p) => p.metadata.name), ["sandbox-demo"]);
    assert.equal(claimer.claims.length, 1);
    const condition = second.status.conditions?.find((c) => c.type === "WarmPodClaimed");
    assert.deepEqual([condition?.status, condition?.reason], ["False", "NoWarmPodAvailable"]);
  });

  it("sandboxSync › a warm pod is claimed before the ServiceAccount exists › the claimed pod is returned at once", async () => {
    const claimer = new FakeClaimer(claimedReady);
    const response = await sync(requestFrom("first-sync-waits-for-service-account", askForWarm), claimer);
    assert.deepEqual(response.children.filter((c) => c.kind === "Pod"), [WARM_POD]);
    assert.equal(response.status.phase, "Running");
  });

  const noClaimCases: [string, string, (body: HookRequest<Sandbox>) => void][] = [
    ["the Sandbox already has a pod", "phase-pod-ready", askForWarm],
    ["warm was not asked for", "standard-minimal", () => undefined],
    ["the Sandbox wants persistent storage", "persistent-storage", askForWarm],
    ["the RuntimeEnvironment is missing", "runtime-missing-new", askForWarm],
    ["the Sandbox has expired", "phase-terminated-stays-terminated", askForWarm],
    // Its ServiceAccount is observed, so only the namespace holds the pod back.
    ["its namespace is being deleted", "namespace-terminating-pod-deleted", askForWarm],
  ];
  for (const [scenario, fixture, edit] of noClaimCases) {
    it(`sandboxSync › ${scenario} › claims nothing`, async () => {
      const claimer = new FakeClaimer(claimedReady);
      const response = await sync(requestFrom(fixture, edit), claimer);
      assert.deepEqual(claimer.claims, []);
      assert.ok(response.children.filter((c) => c.kind === "Pod").length <= 1);
    });
  }
});

describe("a Sandbox's start time", () => {
  const now = new Date(FIXTURE_NOW);
  const readyAt = (annotations: Record<string, string>, component = "warmpod"): ObservedPod => ({
    ...CLAIMED_READY,
    metadata: { ...CLAIMED_READY.metadata, labels: { ...CLAIMED_READY.metadata.labels, component }, annotations },
  });

  it("startTimeOf › a warm pod claimed after it became Ready › starts at the claim", () => {
    assert.equal(startTimeOf(undefined, readyAt({ "llmsafespace.dev/claimed-at": "2026-11-29T11:59:30Z" }), now), "2026-11-29T11:59:30Z");
  });

  it("startTimeOf › a claimed-at later than now › never later than now", () => {
    assert.equal(startTimeOf(undefined, readyAt({ "llmsafespace.dev/claimed-at": "3000-01-01T00:00:00Z" }), now), "2026-11-29T12:00:00Z");
  });

  it("startTimeOf › a claimed-at on a pod that is no warm pod › ignored: when it became Ready", () => {
    assert.equal(startTimeOf(undefined, readyAt({ "llmsafespace.dev/claimed-at": "2026-11-29T11:59:30Z" }, "sandbox"), now), "2026-11-29T10:00:00Z");
  });

  it("startTimeOf › a start time carried from the status › kept", () => {
    assert.equal(startTimeOf("2026-11-29T09:00:00Z", readyAt({}), now), "2026-11-29T09:00:00Z");
  });
});

describe("sandbox sync › transitions", () => {
  /** The transitions one sync of a fixture records, and the answer it gave. */
  async function counted(name: string, edit?: (body: HookRequest<Sandbox>) => void, now = new Date(FIXTURE_NOW)) {
    const transitions: SandboxTransition[] = [];
    const metrics = { podStarted: () => undefined, transition: (transition: SandboxTransition) => transitions.push(transition) };
    const request = requestFrom(name, edit);
    const response = await sandboxSync(request, { config: loadConfig({}), claimer: disabledClaimer, now, metrics });
    const events = transitions.map((t) =>
      t.kind === "Suspended" ? `suspended ${t.reason}` : t.kind === "Resumed" ? "resumed" : `ready ${t.path} after ${t.seconds}s${t.resumeSeconds === undefined ? "" : ` (resume ${t.resumeSeconds}s)`}`,
    );
    return { events, keys: transitions.map((t) => t.key), transitions, request, response };
  }

  const EACH: readonly (readonly [string, readonly string[]])[] = [
    ["suspend-running", ["suspended Requested"]],
    ["idle-suspends", ["suspended Idle"]],
    ["resume-suspended", ["resumed"]],
    ["resume-pod-ready", ["ready resume after 12s (resume 8s)"]],
    ["phase-pod-ready", ["ready cold after 120s"]],
    ["warm-claimed-pod-observed", ["ready warm after 120s"]],
  ];

  it("transitions › each › recorded by the sync that records it in status, and not again when its status is fed back", async () => {
    for (const [fixture, expected] of EACH) {
      const first = await counted(fixture);
      assert.deepEqual(first.events, expected, fixture);
      const again = await counted(fixture, (body) => {
        body.parent.status = first.response.status;
      });
      assert.deepEqual(again.events, [], `${fixture}, its own status fed back`);
    }
  });

  it("transitions › each synced twice from the same parent (a stale cache), seconds apart › the same key, so it is counted once", async () => {
    for (const [fixture] of EACH) {
      const first = await counted(fixture);
      const again = await counted(fixture, undefined, new Date(Date.parse(FIXTURE_NOW) + 5_000));
      assert.equal(first.keys.length, 1, fixture);
      assert.deepEqual(again.keys, first.keys, fixture);
    }
  });

  it("transitions › a second suspension, after a resume › a key of its own", async () => {
    const first = await counted("suspend-running");
    const later = await counted("suspend-running", (body) => {
      body.parent.metadata.generation = (body.parent.metadata.generation ?? 0) + 2;
    });
    assert.equal(later.keys.length, 1);
    assert.notEqual(later.keys[0], first.keys[0]);
  });

  it("transitions › a start › keyed by its run, with the Sandbox named and a message for its Event", async () => {
    const { transitions, request } = await counted("warm-claimed-pod-observed");
    const [ready] = transitions;
    assert.ok(ready?.kind === "Ready");
    const pod = Object.values(request.children["Pod.v1"] ?? {})[0];
    assert.equal(ready.key, `${request.parent.metadata.uid ?? ""}/ready/0`);
    assert.deepEqual(ready.sandbox, { namespace: request.parent.metadata.namespace, name: request.parent.metadata.name, uid: request.parent.metadata.uid });
    assert.equal(ready.pod, pod?.metadata.name);
    assert.match(ready.message, /^Running 120\.0s after it was created, on warm pod \S+ of WarmPool \S+\.$/);
  });

  it("transitions › a resumed run in the pod of the run before (not deleted yet) › a key of its own", async () => {
    const first = await counted("phase-pod-ready");
    const resumed = await counted("resume-pod-ready", (body) => {
      // The pod of phase-pod-ready, still there.
      const fixture = requestFrom("phase-pod-ready");
      body.children = fixture.children;
      body.parent.metadata.uid = fixture.parent.metadata.uid ?? "";
    });
    assert.deepEqual(resumed.events.map((e) => e.split(" ").slice(0, 2).join(" ")), ["ready resume"]);
    assert.notEqual(resumed.keys[0], first.keys[0]);
  });

  it("transitions › the same start on another pod (a stale sync that missed the claim and claimed a second) › the same key", async () => {
    const first = await counted("warm-claimed-pod-observed");
    const other = await counted("warm-claimed-pod-observed", (body) => {
      for (const pod of Object.values(body.children["Pod.v1"] ?? {})) (pod.metadata as { uid?: string }).uid = "another-pod-uid";
    });
    assert.equal(other.keys.length, 1);
    assert.deepEqual(other.keys, first.keys);
  });

  it("transitions › a resume onto a warm pod made long before › timed from the resume and the claim, not from the pod's creation", async () => {
    const { events } = await counted("resume-pod-ready", (body) => {
      for (const pod of Object.values(body.children["Pod.v1"] ?? {})) {
        const metadata = pod.metadata as { creationTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
        metadata.creationTimestamp = "2026-11-29T09:00:00Z";
        metadata.labels = { ...metadata.labels, component: "warmpod", pool: "python" };
        metadata.annotations = { ...metadata.annotations, "llmsafespace.dev/claimed-at": "2026-11-29T11:59:50Z" };
      }
    });
    assert.deepEqual(events, ["ready resume after 12s (resume 8s)"]);
  });

  it("transitions › a Ready pod whose start the status already records (a restart of the hooks, an upgrade) › no new start", async () => {
    const { events } = await counted("phase-running-carried-start-time");
    assert.deepEqual(events, []);
  });
});
