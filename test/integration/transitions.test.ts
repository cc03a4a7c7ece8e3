/**
 * Sandbox transitions counted once (issue #15) against a real API server: the Event a
 * transition is recorded as can be created once, so of the hook servers that see the same start
 * (replicas, a restarted one, syncs from a stale cache) exactly one counts it. And the API
 * server's own metric the "hooks silent" alert reads.
 */
import assert from "node:assert/strict";
import type { CoreV1Event } from "@kubernetes/client-node";
import { REPORTING_COMPONENT } from "../../src/server/kube-events.js";
import { createSandbox, hookServer, podOf, sync, syncBody, useNamespace, warmPool } from "./support/claims.js";
import { cluster } from "./setup.js";

const NAMESPACE = "transitions";

async function readyCount(server: ReturnType<typeof hookServer>): Promise<number> {
  const metric = (await server.metrics.registry.getMetricsAsJSON()).find((m) => m.name === "llmsafespace_sandbox_ready_seconds");
  return (metric?.values ?? []).filter((v) => (v as { metricName?: string }).metricName === "llmsafespace_sandbox_ready_seconds_count").reduce((sum, v) => sum + v.value, 0);
}

/** The Events about a Sandbox from the hooks, by the field selectors docs/RUNBOOK.md uses. */
async function eventsOf(sandbox: string): Promise<CoreV1Event[]> {
  const selector = encodeURIComponent(`involvedObject.name=${sandbox},reportingComponent=${REPORTING_COMPONENT}`);
  const response = await cluster().client.request<{ items: CoreV1Event[] }>("GET", `/api/v1/namespaces/${NAMESPACE}/events?fieldSelector=${selector}`);
  assert.equal(response.status, 200);
  return response.body.items;
}

describe("Sandbox transitions on a real API server", function () {
  this.timeout(60_000);

  before(async () => {
    await useNamespace(NAMESPACE);
  });

  it("ready › a warm start synced from the same stale parent by two hook servers and a restarted one › one Ready Event, counted once", async () => {
    await warmPool("events", 1);
    const sandbox = await createSandbox("events-sandbox");
    const servers = [hookServer(), hookServer(), hookServer()];
    const pods: string[] = [];
    for (const server of servers) {
      // Each sees the Sandbox as created: no status, as a sync from a stale cache does.
      const answer = await sync(server.app, syncBody(sandbox));
      pods.push(podOf(answer)?.metadata.name ?? "");
      await server.transitions.settled();
    }
    // The first claimed the pod; the others found that claim (claim step 1), the same start.
    assert.equal(new Set(pods).size, 1, pods.join(", "));
    assert.deepEqual(await Promise.all(servers.map(readyCount)), [1, 0, 0]);

    const events = await eventsOf("events-sandbox");
    assert.equal(events.length, 1, JSON.stringify(events));
    const [event] = events;
    assert.ok(event !== undefined);
    assert.equal(event.reason, "Ready");
    assert.equal(event.type, "Normal");
    assert.equal(event.reportingComponent, REPORTING_COMPONENT);
    assert.equal(event.involvedObject.uid, sandbox.metadata.uid);
    assert.equal(event.related?.name, pods[0]);
    assert.match(event.message ?? "", /^Running \d+\.\ds after it was created, on warm pod events-00 of WarmPool events\.$/);
  });

  it("apiserver › Sandboxes and WarmPools exist › apiserver_resource_objects counts them under the labels the alert reads", async () => {
    // The store counts refresh about once a minute; they exist for every resource from the start.
    const response = await cluster().client.request<string>("GET", "/metrics");
    assert.equal(response.status, 200);
    for (const resource of ["sandboxes", "warmpools"]) {
      assert.match(response.body, new RegExp(`^apiserver_resource_objects\\{group="llmsafespace\\.dev",resource="${resource}"\\} -?\\d+$`, "m"), resource);
    }
  });
});
