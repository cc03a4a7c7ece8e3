import assert from "node:assert/strict";
import { Counter, Histogram, Registry } from "prom-client";
import { HookRequestMetrics, createMetrics, exposition } from "../src/metrics.js";

const REQUESTS = "llmsafespace_hook_requests_total";
const DURATION = "llmsafespace_hook_request_duration_seconds";
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same calls through prom-client's own Counter and Histogram, as the server counted before. */
async function promClientText(calls: readonly [string, "ok" | "invalid" | "error", number][]): Promise<string> {
  const registry = new Registry();
  const requests = new Counter({
    name: REQUESTS,
    help: "Hook requests answered, by hook and outcome (ok, invalid, error).",
    labelNames: ["hook", "outcome"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: DURATION,
    help: "Time to answer a hook request, from the first byte read to the last byte written.",
    labelNames: ["hook", "outcome"],
    buckets: BUCKETS,
    registers: [registry],
  });
  for (const [hook, outcome, seconds] of calls) {
    requests.inc({ hook, outcome });
    duration.observe({ hook, outcome }, seconds);
  }
  return registry.metrics();
}

describe("metrics", () => {
  it("metrics › hook requests › written out as prom-client writes the same counter and histogram", async () => {
    const calls: [string, "ok" | "invalid" | "error", number][] = [
      ["sandbox/sync", "ok", 0.0004],
      ["sandbox/sync", "ok", 0.001],
      ["sandbox/sync", "ok", 0.003],
      ["warmpool/sync", "ok", 0.7],
      ["sandbox/sync", "invalid", 0.0002],
      ["sandbox/sync", "ok", 42],
      ["warmpool/sync", "error", 10],
    ];
    const hooks = new HookRequestMetrics(REQUESTS, DURATION);
    for (const [hook, outcome, seconds] of calls) hooks.series(hook, outcome).observe(seconds);
    // Line for line, though not in the same order: prom-client writes a bucket's `le` after the
    // series' labels.
    const lines = (text: string) => text.split("\n").filter((line) => line !== "").map(sortedLabels).sort();
    assert.deepEqual(lines(hooks.exposition()), lines(await promClientText(calls)));
  });

  it("metrics › hook requests › buckets are cumulative; +Inf, _count and the counter agree", () => {
    const hooks = new HookRequestMetrics(REQUESTS, DURATION);
    for (const seconds of [0.0005, 0.003, 0.003, 20]) hooks.series("sandbox/sync", "ok").observe(seconds);
    const text = hooks.exposition();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}+.()]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    const labels = 'hook="sandbox/sync",outcome="ok"';
    assert.equal(value(`${DURATION}_bucket{le="0.001",${labels}}`), 1);
    assert.equal(value(`${DURATION}_bucket{le="0.0025",${labels}}`), 1);
    assert.equal(value(`${DURATION}_bucket{le="0.005",${labels}}`), 3);
    assert.equal(value(`${DURATION}_bucket{le="10",${labels}}`), 3);
    assert.equal(value(`${DURATION}_bucket{le="+Inf",${labels}}`), 4);
    assert.equal(value(`${DURATION}_count{${labels}}`), 4);
    assert.equal(value(`${REQUESTS}{${labels}}`), 4);
    assert.ok(Math.abs(value(`${DURATION}_sum{${labels}}`) - 20.0065) < 1e-9);
  });

  it("metrics › hook requests › a label value is escaped", () => {
    const hooks = new HookRequestMetrics(REQUESTS, DURATION);
    hooks.series('odd"\\\nname', "ok").observe(0.1);
    assert.match(hooks.exposition(), new RegExp(`^${REQUESTS}\\{hook="odd\\\\"\\\\\\\\\\\\nname",outcome="ok"\\} 1$`, "m"));
  });

  it("metrics › exposition › every family once, after the registry's own", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.hooks.series("sandbox/sync", "ok").observe(0.002);
    metrics.claimConflicts.inc();
    const text = await exposition(metrics);
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
    assert.equal(new Set(families).size, families.length);
    assert.ok(families.includes(REQUESTS) && families.includes(DURATION) && families.includes("llmsafespace_warm_pod_claim_conflicts_total"));
    assert.match(text, /\n\n# HELP llmsafespace_hook_requests_total /);
    assert.ok(text.endsWith("\n") && !text.endsWith("\n\n\n"));
  });
});

/** A sample line with its labels in name order, so that two writers' lines compare. */
function sortedLabels(line: string): string {
  const match = /^([^{\s]+)\{(.*)\} (\S+)$/.exec(line);
  if (match === null) return line;
  const labels = (match[2] ?? "").split(/,(?=[a-z_]+=")/).sort();
  return `${match[1] ?? ""}{${labels.join(",")}} ${match[3] ?? ""}`;
}
