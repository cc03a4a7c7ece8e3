/**
 * The warm pool hooks with a retirer: giving a pod up is the hooks' one side effect, and the
 * goldens cannot show it (a pool keeps the pods it gives up until it observes them retiring), so
 * these tests watch which pods the retirer was asked about, and what the pool does with each answer.
 */
import assert from "node:assert/strict";
import request from "supertest";
import { warmPoolFinalize } from "../hooks/warmpool-finalize.js";
import { warmPoolSync } from "../hooks/warmpool-sync.js";
import type { WarmPool, WarmPoolStatus } from "../src/api/api-types.js";
import { disabledRetirer, type RetireResult, type WarmPodRetirer } from "../src/warm-pool/claimer.js";
import { loadConfig } from "../src/server/config.js";
import { LABEL_WARM_STATE } from "../src/children/labels.js";
import { objectsOfKind, type HookRequest, type HookResponse, type KubeObject } from "../src/api/metacontroller.js";
import { RequestValidators } from "../src/server/validation.js";
import { poolSize } from "../src/warm-pool/warm-pool.js";
import { FIXTURE_NOW, testApp } from "./support/app.js";
import { fixtureCases, type FixtureCase } from "./support/fixtures.js";

/** A retirer that answers as told and remembers whom it was asked about. */
class RecordingRetirer implements WarmPodRetirer {
  readonly asked: string[] = [];
  constructor(private readonly answer: (name: string) => RetireResult = () => "retired") {}
  retire(pod: { name: string; namespace: string }): Promise<RetireResult> {
    this.asked.push(pod.name);
    return Promise.resolve(this.answer(pod.name));
  }
}

const validators = new RequestValidators();
const cases = fixtureCases("warmpool");

function fixture(name: string): FixtureCase {
  const found = cases.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
}

/** A fixture's request as the hook receives it: validated and defaulted. */
function requestOf(found: FixtureCase): HookRequest<WarmPool> {
  const hook = `warmpool/${found.options.hook ?? "sync"}`;
  const result = validators.validate<HookRequest<WarmPool>>(hook, found.request());
  if (!result.ok) throw new Error(result.details.join("; "));
  return result.value;
}

/** Answers a sync or finalize fixture with the given retirer. */
function answer(found: FixtureCase, retirer: WarmPodRetirer): Promise<HookResponse<WarmPoolStatus>> {
  const request = requestOf(found);
  const now = new Date(found.options.now ?? FIXTURE_NOW);
  return found.options.hook === "finalize"
    ? warmPoolFinalize(request, { retirer, now })
    : warmPoolSync(request, { config: loadConfig(found.options.env ?? {}), retirer, now });
}

function podNames(objects: readonly KubeObject[]): string[] {
  return objects.filter((o) => o.kind === "Pod").map((o) => o.metadata.name);
}

function observedPods(found: FixtureCase): KubeObject[] {
  return objectsOfKind(requestOf(found).children, "v1", "Pod");
}

describe("warm pool hooks with a retirer", () => {
  const asks: [scenario: string, fixture: string, expected: string[]][] = [
    ["spare pods over maxSize", "above-max-size", ["python-pool-83bfe", "python-pool-58e9c"]],
    ["spare pods after scaleDownDelay", "autoscaling-down-after-delay", ["python-pool-f1fa0", "python-pool-cf015"]],
    ["spare pods before scaleDownDelay", "autoscaling-down-before-delay", []],
    ["a pod past its ttl", "ttl-expired-retired-and-replaced", ["python-pool-58e9c"]],
    ["a pod that failed", "failed-pod-retired-and-replaced", ["python-pool-58e9c"]],
    ["a missing RuntimeEnvironment, with a pod past its ttl", "runtime-missing-with-pods", []],
    ["a pool at its size", "at-min-size", []],
    ["finalize with pods", "finalize-pods-present", ["python-pool-cf015", "python-pool-83bfe"]],
  ];
  for (const [scenario, name, expected] of asks) {
    it(`warm pool › ${scenario} › asks to retire exactly ${expected.length === 0 ? "nothing" : expected.join(", ")}`, async () => {
      const retirer = new RecordingRetirer();
      await answer(fixture(name), retirer);
      assert.deepEqual(retirer.asked, expected);
    });
  }

  it("warm pool › every fixture › asks only about pods it observes as available", async () => {
    for (const found of cases.filter((c) => c.options.hook !== "customize")) {
      const retirer = new RecordingRetirer();
      await answer(found, retirer);
      const available = observedPods(found)
        .filter((pod) => pod.metadata.labels?.[LABEL_WARM_STATE] === "available")
        .map((pod) => pod.metadata.name);
      for (const name of retirer.asked) assert.ok(available.includes(name), `${found.name}: asked about ${name}`);
    }
  });

  it("warm pool › every fixture › never drops a pod it observes as available or claimed", async () => {
    for (const found of cases.filter((c) => c.options.hook !== "customize")) {
      const response = await answer(found, new RecordingRetirer());
      const kept = podNames(response.children);
      const dropped = observedPods(found).filter((pod) => !kept.includes(pod.metadata.name));
      for (const pod of dropped) {
        assert.ok(
          !["available", "claimed"].includes(pod.metadata.labels?.[LABEL_WARM_STATE] ?? ""),
          `${found.name}: dropped ${pod.metadata.name}`,
        );
      }
    }
  });

  it("warm pool › retire answers not-available › the pod is kept, and nothing is reported", async () => {
    const retirer = new RecordingRetirer(() => "not-available");
    const response = await answer(fixture("above-max-size"), retirer);
    assert.equal(retirer.asked.length, 2);
    assert.deepEqual(
      podNames(response.children).sort(),
      podNames(observedPods(fixture("above-max-size"))).sort(),
    );
    assert.equal(response.status.lastScaleTime, "2026-11-29T11:30:00Z", "nothing was retired, so no scaling happened");
    assert.deepEqual(response.status.conditions?.map((c) => c.type), ["Ready"]);
  });

  it("warm pool › finalize, retire answers not-available › the pods stay and the pool is not finalized", async () => {
    const response = await answer(fixture("finalize-pods-present"), new RecordingRetirer(() => "not-available"));
    assert.deepEqual(podNames(response.children), ["python-pool-cf015", "python-pool-83bfe"]);
    assert.equal(response.finalized, false);
  });

  it("warm pool › no cluster (retire answers error) › pods kept, RetireFailure says so, resync in 30 s", async () => {
    const response = await answer(fixture("above-max-size"), disabledRetirer);
    assert.deepEqual(
      podNames(response.children).sort(),
      podNames(observedPods(fixture("above-max-size"))).sort(),
    );
    const failure = response.status.conditions?.find((c) => c.type === "RetireFailure");
    assert.equal(failure?.status, "True");
    assert.equal(failure.reason, "RetireFailed");
    assert.match(failure.message, /python-pool-83bfe, python-pool-58e9c/);
    assert.equal(response.status.lastScaleTime, "2026-11-29T11:30:00Z");
    assert.equal(response.resyncAfterSeconds, 30);
  });

  it("warm pool › a stray pod without a warm-state › is dropped and never asked about", async () => {
    const request = requestOf(fixture("at-min-size"));
    const pod = objectsOfKind(request.children, "v1", "Pod")[0]!;
    delete pod.metadata.labels?.[LABEL_WARM_STATE];
    const retirer = new RecordingRetirer();
    const response = await warmPoolSync(request, { config: loadConfig({}), retirer, now: new Date(FIXTURE_NOW) });
    assert.ok(!podNames(response.children).includes(pod.metadata.name));
    assert.ok(!retirer.asked.includes(pod.metadata.name));
  });

  it("warm pool › every sync fixture › a new pod never takes the name of an observed or claimed pod", async () => {
    for (const found of cases.filter((c) => (c.options.hook ?? "sync") === "sync")) {
      const request = requestOf(found);
      const observed = podNames(objectsOfKind(request.children, "v1", "Pod"));
      const claimed = podNames(objectsOfKind(request.related, "v1", "Pod"));
      const desired = podNames((await answer(found, new RecordingRetirer())).children);
      const created = desired.filter((name) => !observed.includes(name));
      assert.deepEqual(created.filter((name) => claimed.includes(name)), [], found.name);
      assert.equal(new Set(desired).size, desired.length, `${found.name}: a name twice`);
    }
  });
});

describe("warm pool size", () => {
  const spec = (minSize: number, maxSize: number, enabled: boolean, targetUtilization = 80) => ({
    runtime: "python:3.10",
    securityLevel: "standard" as const,
    minSize,
    maxSize,
    ttl: 3600,
    autoScaling: { enabled, targetUtilization, scaleDownDelay: 300 },
    recycle: { enabled: false, maxPodAge: 86400, maxRecycleCount: 3, minRuntimeBeforeRecycle: 0 },
  });
  const table: [scenario: string, input: ReturnType<typeof spec>, assigned: number, desired: number][] = [
    ["no autoscaling, many claimed", spec(2, 0, false), 50, 2],
    ["80% target, 4 claimed (4 of 5 is exactly 80%)", spec(0, 0, true, 80), 4, 1],
    ["80% target, 5 claimed", spec(0, 0, true, 80), 5, 2],
    ["50% target, 3 claimed, minSize above demand", spec(5, 0, true, 50), 3, 5],
    ["50% target, 10 claimed, maxSize 4", spec(1, 4, true, 50), 10, 4],
    ["maxSize below minSize", spec(3, 1, true, 50), 10, 3],
    ["100% target", spec(0, 0, true, 100), 7, 0],
    ["no maxSize, 80% target, 5,000 claimed", spec(0, 0, true, 80), 5000, 1000],
    ["maxSize and minSize at the cap", spec(1000, 1000, true, 10), 5000, 1000],
  ];
  for (const [scenario, input, assigned, desired] of table) {
    it(`poolSize › ${scenario} › wants ${desired} warm`, () => {
      assert.equal(poolSize(input, assigned).desired, desired);
    });
  }
});

describe("warm pool routes", () => {
  const app = testApp();
  const post = (hook: string, body: Record<string, unknown>) =>
    request(app).post(`/warmpool/${hook}`).set("content-type", "application/json").send(JSON.stringify(body));

  it("POST /warmpool/sync › a negative minSize › 400 naming the field", async () => {
    const body = fixture("scale-up-from-zero").request();
    (body.parent as { spec: Record<string, unknown> }).spec.minSize = -1;
    const response = await post("sync", body);
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /parent\.spec\.minSize: must be >= 0/);
  });

  it("POST /warmpool/finalize › a parent spec from another CRD version › still answered", async () => {
    const body = fixture("finalize-pods-present").request();
    (body.parent as { spec: Record<string, unknown> }).spec = { size: 3 };
    const response = await post("finalize", body);
    assert.equal(response.status, 200, response.text);
    assert.equal((response.body as { finalized: boolean }).finalized, false);
  });
});
