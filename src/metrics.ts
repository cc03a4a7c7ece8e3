/** Prometheus metrics on a registry of the server's own (no global state shared between apps). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

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
  /** Each pool's pods by state (available, pending, assigned), as its last sync counted them. */
  poolPods: Gauge<"namespace" | "pool" | "state">;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return {
    registry,
    hooks: new HookRequestMetrics(`${METRIC_PREFIX}hook_requests_total`, `${METRIC_PREFIX}hook_request_duration_seconds`),
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
    recycleDecisions: new Counter({
      name: `${METRIC_PREFIX}warm_pod_recycle_decisions_total`,
      help: "Claimed warm pods at Sandbox deletion, by decision (recycle, delete) and reason.",
      labelNames: ["decision", "reason"],
      registers: [registry],
    }),
    claimConflicts: new Counter({
      name: `${METRIC_PREFIX}warm_pod_claim_conflicts_total`,
      help: "Claim patches that lost to another claimer or a retire (the pod was no longer available).",
      registers: [registry],
    }),
  };
}

/**
 * The text of every metric, as `/metrics` serves it: the Prometheus text format 0.0.4, the
 * registry's default. (The hook metrics are written in that format; the registry must stay on it.)
 */
export async function exposition(metrics: Metrics): Promise<string> {
  return `${await metrics.registry.metrics()}\n${metrics.hooks.exposition()}`;
}

/** What one hook call adds to its hook's and outcome's series. */
export interface HookRequestSeries {
  observe(seconds: number): void;
}

/**
 * `llmsafespace_hook_requests_total` and `llmsafespace_hook_request_duration_seconds`, counted on
 * every hook call. Kept as plain numbers per series and written out only when scraped: through
 * prom-client each call built and looked up a label hash twice (in an experiment, a build without
 * the two ran a Sandbox's sync about a tenth faster; docs/PERFORMANCE.md). Labels are the hook's
 * route name and the outcome, both from this server's own code.
 */
export class HookRequestMetrics {
  private readonly byHook = new Map<string, Map<Outcome, HookSeries>>();

  constructor(
    readonly requestsName: string,
    readonly durationName: string,
    private readonly buckets: readonly number[] = HOOK_DURATION_BUCKETS,
  ) {}

  /** The series of one hook and outcome, made on first use. */
  series(hook: string, outcome: Outcome): HookRequestSeries {
    let outcomes = this.byHook.get(hook);
    if (outcomes === undefined) {
      outcomes = new Map();
      this.byHook.set(hook, outcomes);
    }
    let series = outcomes.get(outcome);
    if (series === undefined) {
      series = new HookSeries(`hook="${labelText(hook)}",outcome="${outcome}"`, this.buckets);
      outcomes.set(outcome, series);
    }
    return series;
  }

  /** Both metrics in Prometheus text format: by hook, in the order each was first called, then by outcome. */
  exposition(): string {
    const all = [...this.byHook.values()].flatMap((outcomes) => [...outcomes.values()]);
    const requests = [
      `# HELP ${this.requestsName} Hook requests answered, by hook and outcome (ok, invalid, error).`,
      `# TYPE ${this.requestsName} counter`,
      ...all.map((series) => `${this.requestsName}{${series.labels}} ${series.count}`),
    ];
    const duration = [
      `# HELP ${this.durationName} Time to answer a hook request, from the first byte read to the last byte written.`,
      `# TYPE ${this.durationName} histogram`,
    ];
    for (const series of all) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += series.perBucket[index] ?? 0;
        duration.push(`${this.durationName}_bucket{le="${bound}",${series.labels}} ${cumulative}`);
      });
      duration.push(
        `${this.durationName}_bucket{le="+Inf",${series.labels}} ${series.count}`,
        `${this.durationName}_sum{${series.labels}} ${series.sum}`,
        `${this.durationName}_count{${series.labels}} ${series.count}`,
      );
    }
    return `${requests.join("\n")}\n\n${duration.join("\n")}\n`;
  }
}

class HookSeries implements HookRequestSeries {
  count = 0;
  sum = 0;
  /** Observations per bucket, not cumulative; those above the last bound are only in `count`. */
  readonly perBucket: Float64Array;

  constructor(
    readonly labels: string,
    private readonly bounds: readonly number[],
  ) {
    this.perBucket = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    this.count += 1;
    this.sum += seconds;
    const bounds = this.bounds;
    for (let index = 0; index < bounds.length; index++) {
      if (seconds <= (bounds[index] ?? Infinity)) {
        this.perBucket[index] = (this.perBucket[index] ?? 0) + 1;
        return;
      }
    }
  }
}

/** A label value in Prometheus text: backslash, double quote and line feed escaped. */
function labelText(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}
