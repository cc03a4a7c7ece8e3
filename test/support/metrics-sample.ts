/**
 * A fixed set of calls to every metric of the server, for comparing what /metrics writes for
 * them with test/fixtures/metrics/exposition.txt (what it wrote before the hook metrics moved to
 * prom-client's own Counter and Histogram, with the families issues #14 and #15 added).
 */
import type { Metrics, Outcome } from "../../src/server/metrics.js";

export const SAMPLE_CALLS: readonly [string, Outcome, number][] = [
  ["sandbox/sync", "ok", 0.0004],
  ["sandbox/sync", "ok", 0.001],
  ["sandbox/sync", "ok", 0.003],
  ["warmpool/sync", "ok", 0.7],
  ["sandbox/sync", "invalid", 0.0002],
  ["sandbox/customize", "ok", 0.0001],
  ["sandbox/sync", "ok", 42],
  ["warmpool/sync", "error", 10],
  ["warmpool/finalize", "ok", 0.02],
];

export function countSample(metrics: Metrics): void {
  for (const [hook, outcome, seconds] of SAMPLE_CALLS) metrics.hooks.series(hook, outcome).observe(seconds);
  metrics.allocationAttempts.inc({ runtime: "python:3.10", security_level: "standard", requested: "requested" });
  metrics.allocationAttempts.inc({ runtime: "python:3.10", security_level: "standard", requested: "not_requested" });
  metrics.allocationResults.inc({ runtime: "python:3.10", security_level: "standard", result: "success" });
  metrics.allocationResults.inc({ runtime: "python:3.10", security_level: "standard", result: "no_available_pods" });
  metrics.allocationDuration.observe({ runtime: "python:3.10", security_level: "standard" }, 0.03);
  metrics.claimConflicts.inc();
  metrics.recycleDecisions.inc({ decision: "delete", reason: "disabled" });
  metrics.pools.set({ namespace: "team-a", pool: "python", runtime: "python:3.10", securityLevel: "standard" }, { available: 2, pending: 0, assigned: 1, desired: 3 });
  metrics.claimSteps.observe({ step: "own_claim" }, 0.002);
  metrics.claimSteps.observe({ step: "list" }, 0.004);
  metrics.claimSteps.observe({ step: "patch" }, 0.012);
  metrics.readySeconds.observe({ path: "warm", runtime: "python:3.10", security_level: "standard" }, 0.4);
  metrics.readySeconds.observe({ path: "cold", runtime: "python:3.10", security_level: "standard" }, 4.2);
  metrics.suspends.inc({ reason: "Requested" });
  metrics.suspends.inc({ reason: "Idle" });
  metrics.resumes.inc();
  metrics.resumeDuration.observe(3.5);
}
