/**
 * Claim latency on a real API server (issue #6): for 1, 10 and 100 concurrent claimers against
 * a pool of as many Ready warm pods, the time of each sandbox sync that claims (own-claim lookup,
 * candidate listing and the patch included), p50 and p99, claims per second, and conflicts —
 * through one hook server, and for 100 also through two. A benchmark: it measures and reports.
 *
 * With two servers the claims of a burst race across replicas, as they would without the hook
 * Service's session affinity (metacontroller/service.yaml), say while one replica takes over.
 *
 *   npx tsx bench/claim-latency.ts      # needs Go for the first build of the test binaries
 *
 * Writes bench/results/claim-latency.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cluster, mochaHooks } from "../test/integration/setup.js";
import {
  counterValue,
  createSandbox,
  hookServer,
  useNamespace,
  sync,
  syncBody,
  warmCondition,
  warmPool,
} from "../test/integration/support/claims.js";

interface Row {
  claimers: number;
  servers: number;
  claimed: number;
  p50Ms: number;
  p99Ms: number;
  claimsPerSecond: number;
  conflicts: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function burst(claimers: number, servers: number): Promise<Row> {
  const name = `c${claimers}-s${servers}`;
  await warmPool(name, claimers);
  const sandboxes = await Promise.all(Array.from({ length: claimers }, (_, i) => createSandbox(`${name}-${String(i)}`)));
  const hooks = Array.from({ length: servers }, () => hookServer({ deadlineMs: 30_000 }));
  const durations: number[] = [];
  const started = performance.now();
  const answers = await Promise.all(
    sandboxes.map(async (sandbox, i) => {
      const begin = performance.now();
      const hook = hooks[i % servers];
      if (hook === undefined) throw new Error("no hook server");
      const answer = await sync(hook.app, syncBody(sandbox));
      durations.push(performance.now() - begin);
      return answer;
    }),
  );
  const wall = (performance.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  let conflicts = 0;
  for (const hook of hooks) conflicts += await counterValue(hook.metrics, "llmsafespace_warm_pod_claim_conflicts_total");
  const claimed = answers.filter((a) => warmCondition(a)?.status === "True").length;
  return {
    claimers,
    servers,
    claimed,
    p50Ms: Math.round(percentile(durations, 50)),
    p99Ms: Math.round(percentile(durations, 99)),
    claimsPerSecond: Math.round((claimed / wall) * 10) / 10,
    conflicts,
  };
}

const noTimeout = { timeout: () => undefined } as unknown as Mocha.Context;
await mochaHooks.beforeAll.call(noTimeout);
try {
  await useNamespace("bench-claims");
  const rows: Row[] = [];
  for (const [claimers, servers] of [[1, 1], [10, 1], [100, 1], [100, 2]] as const) {
    rows.push(await burst(claimers, servers));
  }
  console.log("claimers  servers  claimed  p50 ms  p99 ms  claims/s  conflicts");
  for (const r of rows) {
    console.log(
      `${String(r.claimers).padStart(8)}  ${String(r.servers).padStart(7)}  ${String(r.claimed).padStart(7)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.claimsPerSecond).padStart(8)}  ${String(r.conflicts).padStart(9)}`,
    );
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), "results", "claim-latency.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ server: cluster().server.replace(/:\d+$/, ""), rows }, null, 2)}\n`);
  console.log(`(written to ${out})`);
} finally {
  await mochaHooks.afterAll.call(noTimeout);
}
