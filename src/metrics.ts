/** Prometheus metrics on a registry of the server's own (no global state shared between apps). */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const METRIC_PREFIX = "llmsafespace_";

/** How a hook request ended: answered, refused as bad input, or failed on our side. */
export type Outcome = "ok" | "invalid" | "error";

export interface Metrics {
  registry: Registry;
  hookRequests: Counter<"hook" | "outcome">;
  hookDuration: Histogram<"hook" | "outcome">;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return {
    registry,
    hookRequests: new Counter({
      name: `${METRIC_PREFIX}hook_requests_total`,
      help: "Hook requests answered, by hook and outcome (ok, invalid, error).",
      labelNames: ["hook", "outcome"],
      registers: [registry],
    }),
    hookDuration: new Histogram({
      name: `${METRIC_PREFIX}hook_request_duration_seconds`,
      help: "Time to answer a hook request, from the first byte read to the last byte written.",
      labelNames: ["hook", "outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
