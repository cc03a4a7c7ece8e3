/**
 * /metrics: every metric through prom-client, with the names, HELP texts, buckets and labels the
 * server has always written (test/fixtures/metrics/exposition.txt is what it wrote for the same
 * calls when the hook metrics had a writer of their own; the suspend and resume families came
 * with issue #14, time-to-ready, claim steps, desired pods and starting Sandboxes with #15).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import request from "supertest";
import { createMetrics, exposition } from "../src/server/metrics.js";
import { testApp } from "./support/app.js";
import { FIXTURES, fixtureCases } from "./support/fixtures.js";
import { countSample } from "./support/metrics-sample.js";

const RECORDED = readFileSync(join(FIXTURES, "metrics", "exposition.txt"), "utf8");

/** The sample lines of a text, each with its labels in name order, sorted: what two writers must agree on. */
function samples(text: string): string[] {
  return text.split("\n").filter((line) => line !== "").map(sortedLabels).sort();
}

describe("metrics", () => {
  it("metrics › the sample calls › the same families, HELP, TYPE and samples as the server wrote before", async () => {
    const metrics = createMetrics({ processMetrics: false });
    countSample(metrics);
    assert.deepEqual(samples(await exposition(metrics)), samples(RECORDED));
  });

  it("metrics › GET /metrics › serves the registry's text, process metrics included", async () => {
    const metrics = createMetrics();
    countSample(metrics);
    const response = await request(testApp({ metrics })).get("/metrics");
    assert.equal(response.status, 200);
    assert.match(String(response.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    const served = samples(response.text);
    for (const line of samples(RECORDED)) assert.ok(served.includes(line), `missing: ${line}`);
    assert.ok(served.some((line) => line.startsWith("llmsafespace_process_cpu_seconds_total ")));
  });

  it("metrics › hook requests › buckets are cumulative; +Inf, _count and the counter agree", async () => {
    const metrics = createMetrics({ processMetrics: false });
    for (const seconds of [0.0005, 0.003, 0.003, 20]) metrics.hooks.series("sandbox/sync", "ok").observe(seconds);
    const text = await exposition(metrics);
    const value = (name: string, labels: string) =>
      Number(samples(text).find((line) => line.startsWith(`${name}{${labels}} `))?.split(" ")[1]);
    const DURATION = "llmsafespace_hook_request_duration_seconds";
    const labels = (le?: string) => (le === undefined ? 'hook="sandbox/sync",outcome="ok"' : `hook="sandbox/sync",le="${le}",outcome="ok"`);
    assert.equal(value(`${DURATION}_bucket`, labels("0.001")), 1);
    assert.equal(value(`${DURATION}_bucket`, labels("0.0025")), 1);
    assert.equal(value(`${DURATION}_bucket`, labels("0.005")), 3);
    assert.equal(value(`${DURATION}_bucket`, labels("10")), 3);
    assert.equal(value(`${DURATION}_bucket`, labels("+Inf")), 4);
    assert.equal(value(`${DURATION}_count`, labels()), 4);
    assert.equal(value("llmsafespace_hook_requests_total", labels()), 4);
    assert.ok(Math.abs(value(`${DURATION}_sum`, labels()) - 20.0065) < 1e-9);
  });

  it("metrics › exposition › every family once", async () => {
    const metrics = createMetrics({ processMetrics: false });
    countSample(metrics);
    const families = [...(await exposition(metrics)).matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
    assert.equal(new Set(families).size, families.length);
  });

  it("metrics › a suspension synced twice from the same parent › counted once", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const fixture = fixtureCases("sandbox").find((f) => f.name === "suspend-running");
    assert.ok(fixture !== undefined);
    const app = testApp({ metrics });
    const body = JSON.stringify(fixture.request());
    for (let sync = 0; sync < 2; sync++) {
      const answered = await request(app).post("/sandbox/sync").set("content-type", "application/json").send(body);
      assert.equal(answered.status, 200, answered.text);
    }
    const text = await exposition(metrics);
    assert.ok(text.includes('llmsafespace_sandbox_suspends_total{reason="Requested"} 1\n'), text);
  });

});

/** A sample line with its labels in name order, so that two writers' lines compare. */
function sortedLabels(line: string): string {
  const match = /^([^{\s]+)\{(.*)\} (\S+)$/.exec(line);
  if (match === null) return line;
  const labels = (match[2] ?? "").split(/,(?=[a-z_]+=")/).sort();
  return `${match[1] ?? ""}{${labels.join(",")}} ${match[3] ?? ""}`;
}
