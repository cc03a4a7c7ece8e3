/**
 * SPEC §7: a claimed warm pod goes back to its pool only when every check passes. One case per
 * check, each failing exactly that check.
 */
import assert from "node:assert/strict";
import type { WarmPool } from "../src/api/api-types.js";
import type { ObservedPod } from "../src/api/observed.js";
import { recycleDecision, type RecycleReason } from "../src/warm-pool/recycle.js";

const NOW = new Date("2026-11-29T12:00:00Z");

function pool(edit: (p: WarmPool) => void = () => undefined): WarmPool {
  const p: WarmPool = {
    apiVersion: "llmsafespace.dev/v1",
    kind: "WarmPool",
    metadata: { name: "python-pool", namespace: "team-a", uid: "pool-uid" },
    spec: {
      runtime: "python:3.10",
      securityLevel: "standard",
      minSize: 3,
      maxSize: 0,
      ttl: 3600,
      preloadPackages: ["numpy", "pandas"],
      autoScaling: { enabled: false, targetUtilization: 80, scaleDownDelay: 300 },
      recycle: { enabled: true, maxPodAge: 86400, maxRecycleCount: 3, minRuntimeBeforeRecycle: 60 },
    },
    status: { availablePods: 1, assignedPods: 2, pendingPods: 0 },
  };
  edit(p);
  return p;
}

function pod(edit: (p: ObservedPod) => void = () => undefined): ObservedPod {
  const p: ObservedPod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "python-pool-7k2xq",
      namespace: "team-a",
      creationTimestamp: "2026-11-29T11:00:00Z",
      labels: { component: "warmpod", pool: "python-pool" },
      annotations: { "llmsafespace.dev/recycle-count": "1", "llmsafespace.dev/installed-packages": "numpy" },
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
  edit(p);
  return p;
}

const annotate = (key: string, value: string) => (p: ObservedPod) => {
  p.metadata.annotations = { ...p.metadata.annotations, [key]: value };
};

const cases: [string, ObservedPod, WarmPool | undefined, RecycleReason][] = [
  ["the pool is gone", pod(), undefined, "pool_missing"],
  ["the pool does not recycle", pod(), pool((p) => { p.spec.recycle.enabled = false; }), "disabled"],
  ["the pool has minSize available already", pod(), pool((p) => { p.status = { availablePods: 3 }; }), "pool_full"],
  ["the pod is older than maxPodAge", pod((p) => { p.metadata.creationTimestamp = "2026-11-28T11:00:00Z"; }), pool(), "too_old"],
  ["the pod is younger than minRuntimeBeforeRecycle", pod((p) => { p.metadata.creationTimestamp = "2026-11-29T11:59:30Z"; }), pool(), "too_young"],
  ["the pod was recycled maxRecycleCount times", pod(annotate("llmsafespace.dev/recycle-count", "3")), pool(), "recycle_limit"],
  ["the pod has a Security condition", pod((p) => { p.status?.conditions?.push({ type: "SecurityViolation", status: "True" }); }), pool(), "security_event"],
  ["the pod has a seccomp-violation annotation", pod(annotate("llmsafespace.dev/seccomp-violation", "execve")), pool(), "security_event"],
  ["the pod modified system files", pod(annotate("llmsafespace.dev/modified-system-files", "/etc/passwd")), pool(), "security_event"],
  ["the sandbox installed a package the pool does not preload", pod(annotate("llmsafespace.dev/installed-packages", "numpy, requests")), pool(), "package_not_allowed"],
  ["memory usage went over 0.9", pod(annotate("llmsafespace.dev/max-memory-usage", "0.95")), pool(), "usage_too_high"],
  ["disk usage is not a number", pod(annotate("llmsafespace.dev/max-disk-usage", "lots")), pool(), "usage_too_high"],
];

describe("recycling", () => {
  it("recycleDecision › every check passes › recycles", () => {
    const decision = recycleDecision(pod(), pool(), NOW);
    assert.deepEqual([decision.recycle, decision.reason], [true, "recycled"]);
  });

  for (const [scenario, candidate, owner, reason] of cases) {
    it(`recycleDecision › ${scenario} › deletes the pod (${reason})`, () => {
      const decision = recycleDecision(candidate, owner, NOW);
      assert.equal(decision.recycle, false);
      assert.equal(decision.reason, reason, decision.message);
    });
  }
});
