/** Prometheus metrics on a registry of the server's own (no global state shared between apps). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { SandboxStatus } from "../api/index.js";
import { resumedAt } from "../sandbox/index.js";
import type { ClaimObserver, ClaimStep } from "../warm-pool/index.js";

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
  /** Each pool's pods by state and the pods it wants, as this replica's last sync of it counted them. */
  pools: PoolGauges;
  /** Claim API calls by step (own_claim, list, patch). */
  claimSteps: Histogram<"step">;
  /** Sandboxes short of Running, as this replica's last sync of each saw it. */
  starting: StartingSandboxes;
  /** Creation (or resume) of a Sandbox → the first sync that sees its pod Ready, by path. */
  readySeconds: Histogram<"path" | "runtime" | "security_level">;
}

export function createMetrics(options: { processMetrics?: boolean; clock?: () => Date } = {}): Metrics {
  const registry = new Registry();
  const clock = options.clock ?? (() => new Date());
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
    pools: new PoolGauges(registry, clock),
    claimSteps: new Histogram({
      name: `${METRIC_PREFIX}warm_pod_claim_step_duration_seconds`,
      help: "Time a warm-pod claim waited on each Kubernetes API call, by step (own_claim, list, patch); a listing that concurrent claims share counts for each.",
      labelNames: ["step"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers: [registry],
    }),
    starting: new StartingSandboxes(registry, clock),
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
      help: "Time from the creation of a resumed Sandbox's pod (a warm pod's claim) to its Ready.",
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    }),
    readySeconds: new Histogram({
      name: `${METRIC_PREFIX}sandbox_ready_seconds`,
      help: "Time from a Sandbox's creation (or its resume) to the first sync that saw its pod Ready, by path (warm, cold, resume). Counted once per start across replicas.",
      labelNames: ["path", "runtime", "security_level"],
      buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300],
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

/**
 * How long a replica keeps a pool's or a Sandbox's last-seen values without a sync of it: three
 * of Metacontroller's 60 s resyncs. Past that another replica is syncing it (or it is gone), and
 * this one's values would be stale.
 */
export const SEEN_TTL_MS = 180_000;

interface PoolSeen {
  runtime: string;
  securityLevel: string;
  seenAt: number;
}

/**
 * `llmsafespace_warm_pool_pods{state}` and `llmsafespace_warm_pool_desired_pods`: each pool as
 * this replica's last sync of it counted. A pool this replica has not synced for
 * {@link SEEN_TTL_MS} is dropped at the next scrape, so with several replicas only those that
 * see it report it.
 */
export class PoolGauges {
  private readonly pods: Gauge<"namespace" | "pool" | "state">;
  private readonly desired: Gauge<"namespace" | "pool" | "runtime" | "security_level">;
  private readonly seen = new Map<string, PoolSeen & { namespace: string; pool: string }>();

  constructor(
    registry: Registry,
    private readonly clock: () => Date,
  ) {
    this.pods = new Gauge({
      name: `${METRIC_PREFIX}warm_pool_pods`,
      help: "Pods of each WarmPool by state (available, pending, assigned), as its last sync counted them.",
      labelNames: ["namespace", "pool", "state"],
      registers: [registry],
      collect: () => {
        this.expire();
      },
    });
    this.desired = new Gauge({
      name: `${METRIC_PREFIX}warm_pool_desired_pods`,
      help: "Warm pods each WarmPool wants (minSize, or what autoscaling asks, within maxSize), as its last sync computed.",
      labelNames: ["namespace", "pool", "runtime", "security_level"],
      registers: [registry],
      collect: () => {
        this.expire();
      },
    });
  }

  set(
    pool: { namespace: string; pool: string; runtime: string; securityLevel: string },
    counts: { available: number; pending: number; assigned: number; desired: number },
  ): void {
    const { namespace, pool: name } = pool;
    const key = `${namespace}/${name}`;
    const before = this.seen.get(key);
    // A pool whose runtime or level changed: its old series goes.
    if (before !== undefined && (before.runtime !== pool.runtime || before.securityLevel !== pool.securityLevel)) {
      this.desired.remove({ namespace, pool: name, runtime: before.runtime, security_level: before.securityLevel });
    }
    this.seen.set(key, { namespace, pool: name, runtime: pool.runtime, securityLevel: pool.securityLevel, seenAt: this.clock().getTime() });
    for (const state of ["available", "pending", "assigned"] as const) this.pods.set({ namespace, pool: name, state }, counts[state]);
    this.desired.set({ namespace, pool: name, runtime: pool.runtime, security_level: pool.securityLevel }, counts.desired);
  }

  remove(namespace: string, name: string): void {
    const before = this.seen.get(`${namespace}/${name}`);
    if (before === undefined) return;
    this.seen.delete(`${namespace}/${name}`);
    for (const state of ["available", "pending", "assigned"]) this.pods.remove({ namespace, pool: name, state });
    this.desired.remove({ namespace, pool: name, runtime: before.runtime, security_level: before.securityLevel });
  }

  /** Drops the pools this replica has not synced for {@link SEEN_TTL_MS}. */
  private expire(): void {
    const now = this.clock().getTime();
    for (const seen of [...this.seen.values()]) {
      if (now - seen.seenAt > SEEN_TTL_MS) this.remove(seen.namespace, seen.pool);
    }
  }
}

/** The phases of a Sandbox on its way to Running. */
const STARTING_PHASES: ReadonlySet<string> = new Set(["Pending", "Creating"]);

/**
 * How long a replica keeps a starting Sandbox it no longer syncs: a starting Sandbox is synced
 * at every change of its pod and at least every 60 s, so past this another replica has it.
 */
export const STARTING_TTL_MS = 90_000;

/**
 * `llmsafespace_sandboxes_starting` and `llmsafespace_sandbox_starting_oldest_seconds`: the
 * Sandboxes whose last sync on this replica left them on their way to their first Running since
 * their creation or resume (Pending or Creating, no run recorded yet), and how long the oldest
 * of them has been on its way. A Sandbox that ran and whose pod went unready is not starting.
 * Forgotten when a sync sees them further along, at their finalize, or after
 * {@link STARTING_TTL_MS} without a sync here.
 */
export class StartingSandboxes {
  private readonly sandboxes = new Map<string, { from: string | undefined; seenFirst: number; seenAt: number }>();

  constructor(
    registry: Registry,
    private readonly clock: () => Date,
  ) {
    const count: Gauge = new Gauge({
      name: `${METRIC_PREFIX}sandboxes_starting`,
      help: "Sandboxes this replica last saw on their way to Running since their creation or resume (Pending or Creating, not yet run).",
      registers: [registry],
      collect: () => {
        this.expire();
        count.set(this.sandboxes.size);
      },
    });
    const oldest: Gauge = new Gauge({
      name: `${METRIC_PREFIX}sandbox_starting_oldest_seconds`,
      help: "How long the oldest Sandbox this replica last saw on its way to Running has been starting, since its creation or resume; 0 when none.",
      registers: [registry],
      collect: () => {
        this.expire();
        let since = Infinity;
        for (const sandbox of this.sandboxes.values()) {
          // Unknown (no creationTimestamp): from when this replica first saw it starting.
          const from = Date.parse(sandbox.from ?? "");
          since = Math.min(since, Number.isNaN(from) ? sandbox.seenFirst : from);
        }
        oldest.set(since === Infinity ? 0 : Math.max(0, (this.clock().getTime() - since) / 1000));
      },
    });
  }

  /**
   * A sync's answer for a Sandbox: starting or not. On every Sandbox sync, so it only keeps the
   * times as they are; they are read at a scrape.
   */
  synced(uid: string, creationTimestamp: string | undefined, status: SandboxStatus): void {
    // No run recorded: never Running yet, or not since its resume (its earlier runs are counted).
    const notRun = status.startTime === undefined || (status.runningSeconds !== undefined && status.runningSince === undefined);
    if (status.phase === undefined || !STARTING_PHASES.has(status.phase) || !notRun) {
      this.sandboxes.delete(uid);
      return;
    }
    const seenAt = this.clock().getTime();
    const before = this.sandboxes.get(uid);
    this.sandboxes.set(uid, { from: resumedAt(status) ?? creationTimestamp, seenFirst: before?.seenFirst ?? seenAt, seenAt });
  }

  forget(uid: string): void {
    this.sandboxes.delete(uid);
  }

  private expire(): void {
    const now = this.clock().getTime();
    for (const [uid, { seenAt }] of this.sandboxes) if (now - seenAt > STARTING_TTL_MS) this.sandboxes.delete(uid);
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
    claimStep: (step: ClaimStep, seconds: number) => {
      metrics.claimSteps.observe({ step }, seconds);
    },
  };
}
