/**
 * `npm run bench:hook-cost`: what validating and answering a Sandbox's sync costs on its own,
 * with no HTTP, against reading and writing the same JSON.
 *
 * `npm run bench` compares two servers; this takes the server away. For each Sandbox case it
 * times, in one process, on the build `npm run bench` measures (bench/.build, by tsc), and in
 * alternating rounds, two loops over the case's request text:
 *
 * - **json**: `JSON.parse` the request and `JSON.stringify` the hook's answer (parsed once before);
 * - **hook**: `JSON.parse` the request, validate it and run the hook through the server's own
 *   `hookRunner` (the code the route calls), and `JSON.stringify` what it answers.
 *
 * The difference is the hook's own work, validation included, when its code and data are hot in
 * the CPU's caches. Between requests of a real server they are not, so the same work costs more
 * there (docs/PERFORMANCE.md). A benchmark, not a test: it reports and asserts nothing.
 *
 *   npm run bench:hook-cost                    every Sandbox case, 5 rounds of 20,000 calls
 *   npm run bench:hook-cost -- --rounds 9 --calls 50000
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CASES, type JsonObject } from "./bodies.js";
import { BUILD, buildForBench } from "./build.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    calls: { type: "string", default: "20000" },
  },
  strict: true,
});
const rounds = Number(args.rounds);
const calls = Number(args.calls);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(calls) || calls < 1) {
  process.stderr.write("bench: --rounds and --calls must be positive integers\n");
  process.exit(1);
}

// The code `npm start` runs, built by tsc: tsx's own output differs (it names every function it
// defines, closures included, at each definition).
if (!buildForBench()) process.exit(1);
/** One module of the build, typed as its source. */
async function built<T>(path: string): Promise<T> {
  return (await import(pathToFileURL(join(BUILD, path)).href)) as T;
}
const [{ hookRunner }, { loadConfig }, { createLogger }, { createMetrics }, { RequestValidators }, { disabledClaimer }] = await Promise.all([
  built<typeof import("../src/server/app.js")>("src/server/app.js"),
  built<typeof import("../src/server/config.js")>("src/server/config.js"),
  built<typeof import("../src/server/log.js")>("src/server/log.js"),
  built<typeof import("../src/server/metrics.js")>("src/server/metrics.js"),
  built<typeof import("../src/server/validation.js")>("src/server/validation.js"),
  built<typeof import("../src/warm-pool/index.js")>("src/warm-pool/index.js"),
]);

const run = hookRunner({
  config: loadConfig({}),
  validators: new RequestValidators(),
  claimer: disabledClaimer,
  clock: () => new Date(),
  logger: createLogger("warn"),
  metrics: createMetrics({ processMetrics: false }),
});

/** Microseconds per call of `call`, over `calls` calls. */
async function time(call: () => Promise<string> | string): Promise<number> {
  let length = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) length += (await call()).length;
  const micros = Number(process.hrtime.bigint() - start) / 1000 / calls;
  if (length === 0) throw new Error("nothing was written");
  return micros;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

console.log(`${rounds} rounds of ${calls.toLocaleString("en-US")} calls each, Node ${process.version}; µs per call, median of the rounds\n`);
console.log("| case | json | hook | hook's own work |");
console.log("|---|--:|--:|--:|");
for (const bench of CASES.filter((c) => c.path === "/sandbox/sync")) {
  const text = bench.body().toString("utf8");
  const answer = (await run("sandbox/sync", JSON.parse(text))) as JsonObject;
  // As npm run bench does: the answer must be the one this case means to measure.
  bench.check(answer);
  const json = () => {
    JSON.parse(text);
    return JSON.stringify(answer);
  };
  const hook = async () => JSON.stringify(await run("sandbox/sync", JSON.parse(text)));
  // Warm both up, then alternate so that whatever else the machine does weighs on both alike.
  await time(json);
  await time(hook);
  const times = { json: [] as number[], hook: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    times.json.push(await time(json));
    times.hook.push(await time(hook));
  }
  const [j, h] = [median(times.json), median(times.hook)];
  console.log(`| ${bench.title} | ${j.toFixed(1)} | ${h.toFixed(1)} | ${(h - j).toFixed(1)} |`);
}
