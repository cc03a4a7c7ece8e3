/** Prometheus metrics on a registry of the server's own (no global state shared between apps). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ClaimObserver } from "../warm-pool/index.js";

/** Upper bounds of the hook duration histogram, in seconds. */
const HOOK_DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const METRIC_PREFIX = "llmsafespace_";

/** How a hook request ended: answered, refused as bad input, or failed on our side. */
export type Outcome = "ok" | "invalid" | "error";

export interface Metrics {
  registry: Registry;
  /** Hook calls by hook and outcome: a counter and a duration histogram. */
  hooks: HookRequestMetrics;
  /** Pods started for Sandboxes, warm `requested` or `not_requested` (the seed's vocabulary). */
  allocationAttempts: Counter<"runtime" | "security_level" | "requested">;
  /** Claim outcomes: error, no_matching_pools, no_available_pods, no_ready_pods, success. */
  allocationResults: Counter<"runtime" | "security_level" | "result">;
  allocationDuration: Histogram<"runtime" | "security_level">;
  claimConflicts: Counter;
  /** What became of claimed warm pods at Sandbox deletion: recycle or delete, and why. */
  recycleDecisions: Counter<"decision" | "reason">;
  /** Sandboxes suspended, by reason (Requested, Idle). */
  suspends: Counter<"reason">;
  /** Suspended Sandboxes resumed. */
  resumes: Counter;
  /** Creation of a resumed Sandbox's pod → Ready. */
  resumeDuration: Histogram;
  /** Each pool's pods by state (available, pending, assigned), as its last sync counted them. */
  poolPods: Gauge<"namespace" | "pool" | "state">;
  /** The Sandbox transitions counted so far, so that a sync repeating one does not count it again. */
  transitions: CountedOnce;
}

/**
 * Keys seen, the latest `capacity` of them: `first(key)` is true once per key. A Sandbox sync
 * that Metacontroller makes from a parent its cache has not updated yet (the status of the sync
 * before it not seen) records the same transition again, under the same key; only the first
 * counts. One server's memory: two replicas, or a restart between the two syncs, may each count it.
 */
export class CountedOnce {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  first(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    // A Set iterates in insertion order: the oldest key goes first.
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return {
    registry,
    hooks: new HookRequestMetrics(registry),
    allocationAttempts: new Counter({
      name: `${METRIC_PREFIX}warm_pod_allocation_attempts_total`,
      help: "Sandbox pods started, by whether a warm pod was requested (requested, not_requested).",
      labelNames: ["runtime", "security_level", "requested"],
      registers: [registry],
    }),
    allocationResults: new Counter({
      name: `${METRIC_PREFIX}warm_pod_allocation_results_total`,
      help: "Warm-pod claims by result (error, no_matching_pools, no_available_pods, no_ready_pods, success).",
      labelNames: ["runtime", "security_level", "result"],
      registers: [registry],
    }),
    allocationDuration: new Histogram({
      name: `${METRIC_PREFIX}warm_pod_allocation_duration_seconds`,
      help: "Time to claim a warm pod or give up, own-claim lookup and patches included.",
      labelNames: ["runtime", "security_level"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    poolPods: new Gauge({
      name: `${METRIC_PREFIX}warm_pool_pods`,
      help: "Pods of each WarmPool by state (available, pending, assigned), as its last sync counted them.",
      labelNames: ["namespace", "pool", "state"],
      registers: [registry],
    }),
    transitions: new CountedOnce(),
    recycleDecisions: new Counter({
      name: `${METRIC_PREFIX}warm_pod_recycle_decisions_total`,
      help: "Claimed warm pods at Sandbox deletion, by decision (recycle, delete) and reason.",
      labelNames: ["decision", "reason"],
      registers: [registry],
    }),
    suspends: new Counter({
      name: `${METRIC_PREFIX}sandbox_suspends_total`,
      help: "Sandboxes suspended, by reason (Requested: spec.suspend; Idle: spec.lifecycle.idleTimeout).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    resumes: new Counter({
      name: `${METRIC_PREFIX}sandbox_resumes_total`,
      help: "Suspended Sandboxes resumed.",
      registers: [registry],
    }),
    resumeDuration: new Histogram({
      name: `${METRIC_PREFIX}sandbox_resume_seconds`,
      help: "Time from the creation of a resumed Sandbox's pod to its Ready.",
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    }),
    claimConflicts: new Counter({
      name: `${METRIC_PREFIX}warm_pod_claim_conflicts_total`,
      help: "Claim patches that lost to another claimer or a retire (the pod was no longer available).",
      registers: [registry],
    }),
  };
}

/** The text of every metric, as `/metrics` serves it (Prometheus text format 0.0.4). */
export function exposition(metrics: Metrics): Promise<string> {
  return metrics.registry.metrics();
}

/** What one hook call adds to its hook's and outcome's series. */
export interface HookRequestSeries {
  observe(seconds: number): void;
}

/**
 * `llmsafespace_hook_requests_total` and `llmsafespace_hook_request_duration_seconds`, counted on
 * every hook call, by the hook's route name and the outcome (both from this server's own code).
 * Each hook and outcome's pair of prom-client series is looked up once and kept, so that a call
 * does not hash its labels twice.
 */
export class HookRequestMetrics {
  private readonly requests: Counter<"hook" | "outcome">;
  private readonly duration: Histogram<"hook" | "outcome">;
  private readonly byHook = new Map<string, Map<Outcome, HookRequestSeries>>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: `${METRIC_PREFIX}hook_requests_total`,
      help: "Hook requests answered, by hook and outcome (ok, invalid, error).",
      labelNames: ["hook", "outcome"],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: `${METRIC_PREFIX}hook_request_duration_seconds`,
      help: "Time to answer a hook request, from the first byte read to the last byte written.",
      labelNames: ["hook", "outcome"],
      buckets: [...HOOK_DURATION_BUCKETS],
      registers: [registry],
    });
  }

  /** The series of one hook and outcome, made on first use. */
  series(hook: string, outcome: Outcome): HookRequestSeries {
    let outcomes = this.byHook.get(hook);
    if (outcomes === undefined) {
      outcomes = new Map();
      this.byHook.set(hook, outcomes);
    }
    let series = outcomes.get(outcome);
    if (series === undefined) {
      const count = this.requests.labels({ hook, outcome });
      const time = this.duration.labels({ hook, outcome });
      series = {
        observe: (seconds) => {
          count.inc();
          time.observe(seconds);
        },
      };
      outcomes.set(outcome, series);
    }
    return series;
  }
}

/** Claims counted and timed on the server's metrics. */
export function metricsObserver(metrics: Metrics): ClaimObserver {
  return {
    claimFinished: (runtime, securityLevel, result, seconds) => {
      metrics.allocationResults.inc({ runtime, security_level: securityLevel, result });
      metrics.allocationDuration.observe({ runtime, security_level: securityLevel }, seconds);
    },
    claimConflict: () => {
      metrics.claimConflicts.inc();
    },
  };
}
