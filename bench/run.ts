/**
 * `npm run bench`: the hook server against the floor of an express hook server.
 *
 * For each case it starts, as separate processes with the same Node flags, the real hook server
 * (bench/.build/src/server/main.js, the code `npm start` runs, with no Kubernetes access) and a baseline
 * express app that only parses the same body with `express.json` and answers the same bytes
 * (bench/baseline-server.ts). It drives each in turn over loopback HTTP with autocannon at a
 * fixed concurrency, and reports requests/s, p50 and p99 latency, the ratio to the baseline, CPU
 * per request and each server's peak RSS, and how many settled Sandboxes one replica serves at a
 * 60 s resync within a tenth of a core. Every request must be answered 200; anything else fails the run. The
 * Sandbox cases, a few hundred microseconds a request, are measured by default on three fresh
 * pairs of processes and added up (`--pairs N` sets it for every case; `--profile` and
 * `--quick` default to one): one pair alone reads a few percent off either way.
 *
 *   npm run bench                      every case (a few minutes)
 *   npm run bench -- --quick           a smoke run: fewer cases, short durations (under a minute)
 *   npm run bench -- --case warmpool-sync-1000 --profile
 *                                      one case, both servers under --cpu-prof (bench/profiles/)
 *   npm run bench -- --hook /elsewhere/dist/src/server/main.js
 *                                      another build of the hook server, say an older commit's
 *   npm run bench -- --node-flags ""   both servers with Node's defaults instead of the Deployment's
 *
 * Writes bench/results/<timestamp>.json (or --out). A benchmark is not a test: it checks that the
 * servers start and answer, never how fast.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { parseAllDocuments } from "yaml";
import { freePort } from "../test/support/ports.js";
import { CASES, type BenchCase, type JsonObject } from "./bodies.js";
import { BUILD, ROOT, buildForBench } from "./build.js";

const BASELINE_SERVER = join(BUILD, "bench", "baseline-server.js");
const MIB = 1024 * 1024;


const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    case: { type: "string", multiple: true },
    connections: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    rounds: { type: "string" },
    pairs: { type: "string" },
    "node-flags": { type: "string" },
    hook: { type: "string" },
    out: { type: "string" },
    "no-build": { type: "boolean", default: false },
  },
  strict: true,
});

/** The hook server's entry point: this checkout's build, or another build's (`--hook`, to compare). */
const HOOK_SERVER = args.hook ?? join(BUILD, "src", "server", "main.js");
/** Concurrent connections: what a Metacontroller with a few workers sends one hook server. */
const CONNECTIONS = Number(args.connections ?? "4");
const NODE_FLAGS: readonly string[] = nodeFlags();
/** The cases `--quick` runs: one of each kind, up to N = 1,000. */
const QUICK_CASES = ["sandbox-sync-new", "sandbox-sync-running", "warmpool-sync-100", "warmpool-sync-1000"];

interface Durations {
  /** Seconds of warm-up per server, not counted. */
  warmup: number;
  /** Seconds of measurement per server, split into rounds. */
  measure: number;
  rounds: number;
  /**
   * Fresh pairs of processes, each warmed up and measured for the whole `measure`, their figures
   * added up. Two processes running the same code differ by a few percent on this machine
   * (placement, memory layout); more than one pair keeps that out of a ratio near its target.
   */
  pairs: number;
}

/**
 * How long each server is driven. The two servers take turns in short rounds (hook, baseline,
 * baseline, hook, …) rather than one long run each, so that whatever else the machine does at
 * the time weighs on both alike.
 */
function durationsOf(benchCase: BenchCase): Durations {
  const big = benchCase.id === "warmpool-sync-10000";
  const measure = Number(args.duration ?? (args.quick ? "2" : big ? "24" : "10"));
  const warmup = Number(args.warmup ?? (args.quick ? "1" : big ? "5" : "2"));
  const rounds = Number(args.rounds ?? (args.quick ? "1" : big ? "4" : "5"));
  // A profile is of one pair, so a profiled run measures that pair alone unless told otherwise.
  const onePair = args.quick || args.profile || benchCase.path !== "/sandbox/sync";
  const pairs = Number(args.pairs ?? (onePair ? "1" : "3"));
  return { warmup, measure, rounds, pairs };
}

/**
 * The Node flags of both servers: those the Deployment runs the hook server with
 * (metacontroller/deployment.yaml, NODE_OPTIONS), unless `--node-flags` says otherwise.
 */
function nodeFlags(): string[] {
  const given = args["node-flags"];
  if (given !== undefined) return given.split(/\s+/).filter((flag) => flag !== "");
  const manifest = parseAllDocuments(readFileSync(join(ROOT, "metacontroller", "deployment.yaml"), "utf8"));
  for (const document of manifest) {
    const deployment = document.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
    };
    if (deployment.kind !== "Deployment") continue;
    for (const container of deployment.spec?.template?.spec?.containers ?? []) {
      const value = container.env?.find((variable) => variable.name === "NODE_OPTIONS")?.value;
      if (value !== undefined) return value.split(/\s+/).filter((flag) => flag !== "");
    }
  }
  return [];
}

interface Measurement {
  /** Requests answered over the seconds measured, all rounds together. */
  requestsPerSecond: number;
  requests: number;
  seconds: number;
  /** autocannon's, in whole milliseconds: p50 the median of the rounds', p99 and max the highest. */
  latencyMs: { p50: number; p99: number; max: number };
  /**
   * CPU time of the server process per request answered (user + system, from /proc; undefined
   * elsewhere). Steadier than requests/s on a machine that also runs other work.
   */
  cpuMicrosPerRequest?: number;
  /** VmHWM of the server process: its peak resident set, start-up and warm-up included. */
  peakRssMiB: number;
}

interface CaseResult {
  id: string;
  title: string;
  requestBytes: number;
  responseBytes: number;
  /** How long each server was driven, in how many turns, and by how many pairs of processes. */
  durations: Durations;
  hook: Measurement;
  baseline: Measurement;
  /** hook requests/s ÷ baseline requests/s. */
  ratio: number;
  /** baseline CPU per request ÷ hook CPU per request, where /proc tells. */
  cpuRatio?: number;
}

/** Every server started and not yet stopped: a failed or interrupted run leaves none behind. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

/** The environment of a server: no Kubernetes access, whatever the shell running the bench has. */
function serverEnv(port: number, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: "warn", ...extra };
  delete env.KUBECONFIG;
  delete env.KUBERNETES_SERVICE_HOST;
  delete env.NODE_OPTIONS;
  return env;
}

class Server {
  private exited = false;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    running.add(child);
    child.once("exit", () => {
      this.exited = true;
      running.delete(child);
    });
  }

  static async start(name: string, script: string, env: Record<string, string>, flags: readonly string[] = []): Promise<Server> {
    const port = await freePort();
    const child = spawn(process.execPath, [...NODE_FLAGS, ...flags, script], {
      cwd: ROOT,
      env: serverEnv(port, env),
      stdio: ["ignore", "inherit", "inherit"],
    });
    const server = new Server(name, port, child);
    await server.ready();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async ready(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.exited) fail(`the ${this.name} server exited while starting (exit code ${String(this.child.exitCode)})`);
      try {
        const response = await fetch(`${this.url}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    fail(`the ${this.name} server did not start within 30 s`);
  }

  /** CPU time the process has used (user + system), in microseconds; undefined without /proc. */
  cpuMicros(): number | undefined {
    try {
      const fields = readFileSync(`/proc/${String(this.child.pid)}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
      return (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      return undefined;
    }
  }

  /** Peak resident set so far (VmHWM), in MiB; where /proc is missing, the current RSS from ps. */
  peakRssMiB(): number {
    const pid = this.child.pid ?? fail(`the ${this.name} server has no pid`);
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status);
      if (hwm?.[1] !== undefined) return Number(hwm[1]) / 1024;
    } catch {
      // not Linux
    }
    return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) / 1024;
  }

  /** SIGTERM, as Kubernetes stops it (so --cpu-prof writes its profile); SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => { resolve(); }));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }

  assertRunning(): void {
    if (this.exited) fail(`the ${this.name} server exited during the run (exit code ${String(this.child.exitCode)})`);
  }
}

/** One request, answered 200 with JSON, or the run fails. */
async function answer(server: Server, path: string, body: Buffer): Promise<{ text: string; json: JsonObject }> {
  const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await response.text();
  if (response.status !== 200) fail(`${server.name} ${path} answered ${response.status}: ${text.slice(0, 2000)}`);
  return { text, json: JSON.parse(text) as JsonObject };
}

async function drive(server: Server, path: string, body: Buffer, seconds: number, warmup = false): Promise<autocannon.Result> {
  const result = await autocannon({
    url: `${server.url}${path}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 120,
  });
  server.assertRunning();
  const codes = Object.keys(result.statusCodeStats ?? {});
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0 || codes.some((code) => code !== "200")) {
    fail(
      `${server.name} ${path}: not every request was answered 200 (status codes ${JSON.stringify(result.statusCodeStats)}, ` +
        `${result.errors} errors, ${result.timeouts} timeouts)`,
    );
  }
  if (result.requests.total === 0 && !warmup) fail(`${server.name} ${path}: no request completed in ${seconds} s`);
  return result;
}

/** One server's rounds, summed. */
class Tally {
  private requests = 0;
  private seconds = 0;
  private cpu: number | undefined = 0;
  private readonly p50: number[] = [];
  private p99 = 0;
  private max = 0;
  private peakRss = 0;

  add(result: autocannon.Result, cpuMicros: number | undefined): void {
    this.cpu = this.cpu === undefined || cpuMicros === undefined ? undefined : this.cpu + cpuMicros;
    this.requests += result.requests.total;
    this.seconds += result.duration;
    this.p50.push(result.latency.p50);
    this.p99 = Math.max(this.p99, result.latency.p99);
    this.max = Math.max(this.max, result.latency.max);
  }

  /** Notes a server's peak resident set before it stops; the figure is the highest of them. */
  noteRss(server: Server): void {
    this.peakRss = Math.max(this.peakRss, server.peakRssMiB());
  }

  measurement(): Measurement {
    const sorted = [...this.p50].sort((a, b) => a - b);
    return {
      requestsPerSecond: this.requests / this.seconds,
      requests: this.requests,
      seconds: this.seconds,
      latencyMs: { p50: sorted[Math.floor(sorted.length / 2)] ?? 0, p99: this.p99, max: this.max },
      ...(this.cpu !== undefined ? { cpuMicrosPerRequest: this.cpu / this.requests } : {}),
      peakRssMiB: this.peakRss,
    };
  }
}

/** Warms both servers up, then drives them in turns, adding their figures to the tallies. */
async function measure(
  [hook, baseline]: readonly [Server, Server],
  tallies: readonly [Tally, Tally],
  path: string,
  body: Buffer,
  durations: Durations,
): Promise<void> {
  if (durations.warmup > 0) {
    await drive(hook, path, body, durations.warmup, true);
    await drive(baseline, path, body, durations.warmup, true);
  }
  const servers = [hook, baseline] as const;
  const seconds = durations.measure / durations.rounds;
  for (let round = 0; round < durations.rounds; round++) {
    // Hook first in even rounds, baseline first in odd ones.
    for (const index of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const server = servers[index] ?? hook;
      const before = server.cpuMicros();
      const result = await drive(server, path, body, seconds);
      const after = server.cpuMicros();
      tallies[index]?.add(result, before === undefined || after === undefined ? undefined : after - before);
    }
  }
  tallies[0].noteRss(hook);
  tallies[1].noteRss(baseline);
}

async function runCase(benchCase: BenchCase, scratch: string): Promise<CaseResult> {
  const durations = durationsOf(benchCase);
  const body = benchCase.body();
  const tallies = [new Tally(), new Tally()] as const;
  let responseText = "";
  for (let pair = 0; pair < durations.pairs; pair++) {
    responseText = await runPair(benchCase, body, scratch, durations, tallies, pair);
  }
  const [hookResult, baselineResult] = [tallies[0].measurement(), tallies[1].measurement()];
  return {
    id: benchCase.id,
    title: benchCase.title,
    requestBytes: body.length,
    responseBytes: Buffer.byteLength(responseText),
    durations,
    hook: hookResult,
    baseline: baselineResult,
    ratio: hookResult.requestsPerSecond / baselineResult.requestsPerSecond,
    ...(hookResult.cpuMicrosPerRequest !== undefined && baselineResult.cpuMicrosPerRequest !== undefined
      ? { cpuRatio: baselineResult.cpuMicrosPerRequest / hookResult.cpuMicrosPerRequest }
      : {}),
  };
}

/** One fresh hook server and baseline, checked, measured into the tallies and stopped; returns the hook's answer. */
async function runPair(
  benchCase: BenchCase,
  body: Buffer,
  scratch: string,
  durations: Durations,
  tallies: readonly [Tally, Tally],
  pair: number,
): Promise<string> {
  // Profiles of the first pair only: one file per server.
  const profileFlags = (server: string) =>
    args.profile && pair === 0
      ? ["--cpu-prof", `--cpu-prof-dir=${join(ROOT, "bench", "profiles")}`, `--cpu-prof-name=${benchCase.id}.${server}.cpuprofile`]
      : [];
  const hook = await Server.start("hook", HOOK_SERVER, {}, profileFlags("hook"));
  let baseline: Server | undefined;
  try {
    const first = await answer(hook, benchCase.path, body);
    try {
      benchCase.check(first.json);
    } catch (error) {
      fail(`${benchCase.id}: the hook's answer is not the one this case measures: ${(error as Error).message}`);
    }
    const responseFile = join(scratch, `${benchCase.id}.response.json`);
    writeFileSync(responseFile, first.text);
    baseline = await Server.start("baseline", BASELINE_SERVER, { BASELINE_RESPONSE_FILE: responseFile }, profileFlags("baseline"));
    const floor = await answer(baseline, benchCase.path, body);
    if (floor.text.length !== first.text.length) fail(`${benchCase.id}: the baseline's answer is not the hook's size`);
    await measure([hook, baseline], tallies, benchCase.path, body, durations);
    return first.text;
  } finally {
    await hook.stop();
    await baseline?.stop();
  }
}

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return "";
    }
  })();
  return {
    cpus: cpus().length,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

interface Target {
  target: string;
  value: number;
  threshold: number;
  holds: boolean;
  /** The same ratio by CPU time per request, for comparison. */
  byCpu?: number;
}

function cpuOf(result: CaseResult): { byCpu?: number } {
  return result.cpuRatio !== undefined ? { byCpu: result.cpuRatio } : {};
}

/** What a settled Sandbox's resync costs a replica, and how many one tenth of a core serves. */
export const RESYNC_SECONDS = 60;
const CORE_SHARE = 0.1;

/** The issue's targets, reported (never asserted: timings vary from run to run and machine to machine). */
function targets(results: readonly CaseResult[]): Target[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  const found: Target[] = [];
  const fresh = byId.get("sandbox-sync-new");
  if (fresh !== undefined) {
    found.push({ target: "sandbox-sync-new: ratio to the express floor ≥ 0.75", value: fresh.ratio, threshold: 0.75, holds: fresh.ratio >= 0.75, ...cpuOf(fresh) });
  }
  const thousand = byId.get("warmpool-sync-1000");
  if (thousand !== undefined) {
    found.push({ target: "warmpool-sync-1000: ratio ≥ 0.5", value: thousand.ratio, threshold: 0.5, holds: thousand.ratio >= 0.5, ...cpuOf(thousand) });
    const rss = thousand.hook.peakRssMiB;
    found.push({ target: "warmpool-sync-1000: hook peak RSS < 256 MiB", value: rss, threshold: 256, holds: rss < 256 });
  }
  return found;
}

/**
 * CPU per sync, and the Sandboxes one replica serves at Metacontroller's resync period within a
 * tenth of a core: each settled Sandbox is synced once per period (the running case).
 */
function capacity(results: readonly CaseResult[]): { cpuMicrosPerSync: Record<string, number>; sandboxesPerTenthOfACore?: number } {
  const cpuMicrosPerSync = Object.fromEntries(
    results.flatMap((r) => (r.hook.cpuMicrosPerRequest !== undefined ? [[r.id, Math.round(r.hook.cpuMicrosPerRequest)]] : [])),
  );
  const running = cpuMicrosPerSync["sandbox-sync-running"];
  return running === undefined
    ? { cpuMicrosPerSync }
    : { cpuMicrosPerSync, sandboxesPerTenthOfACore: Math.floor((CORE_SHARE * RESYNC_SECONDS * 1e6) / running) };
}

function size(bytes: number): string {
  return bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

function cpuFigure(micros: number): string {
  return micros >= 10_000 ? `${(micros / 1000).toFixed(0)}k` : micros.toFixed(0);
}

function table(results: readonly CaseResult[]): string {
  const header = [
    "case",
    "request",
    "response",
    "hook req/s",
    "p50 ms",
    "p99 ms",
    "base req/s",
    "p50 ms",
    "p99 ms",
    "ratio",
    "CPU µs/req hook/base",
    "CPU ratio",
    "hook RSS MiB",
    "base RSS MiB",
  ];
  const rows = results.map((r) => [
    r.title,
    size(r.requestBytes),
    size(r.responseBytes),
    r.hook.requestsPerSecond.toFixed(1),
    r.hook.latencyMs.p50.toFixed(1),
    r.hook.latencyMs.p99.toFixed(1),
    r.baseline.requestsPerSecond.toFixed(1),
    r.baseline.latencyMs.p50.toFixed(1),
    r.baseline.latencyMs.p99.toFixed(1),
    r.ratio.toFixed(2),
    r.hook.cpuMicrosPerRequest !== undefined && r.baseline.cpuMicrosPerRequest !== undefined
      ? `${cpuFigure(r.hook.cpuMicrosPerRequest)} / ${cpuFigure(r.baseline.cpuMicrosPerRequest)}`
      : "-",
    r.cpuRatio?.toFixed(2) ?? "-",
    r.hook.peakRssMiB.toFixed(0),
    r.baseline.peakRssMiB.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const wanted = args.case ?? (args.quick ? QUICK_CASES : CASES.map((c) => c.id));
  const cases = wanted.map((id) => CASES.find((c) => c.id === id) ?? fail(`no case ${id}; cases: ${CASES.map((c) => c.id).join(", ")}`));
  if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 1) fail("--connections must be a positive integer");
  for (const benchCase of cases) {
    const { warmup, measure, rounds, pairs } = durationsOf(benchCase);
    if (!Number.isInteger(pairs) || pairs < 1) fail("--pairs must be a positive integer");
    if (!Number.isInteger(rounds) || rounds < 1) fail("--rounds must be a positive integer");
    if (!(measure > 0) || !(warmup >= 0)) fail("--duration must be a positive number of seconds and --warmup zero or more");
  }

  if (!args["no-build"] && !buildForBench()) fail("the build failed");
  if (args.profile) mkdirSync(join(ROOT, "bench", "profiles"), { recursive: true });

  const scratch = mkdtempSync(join(tmpdir(), "llmsafespace-bench-"));
  const started = Date.now();
  const results: CaseResult[] = [];
  try {
    for (const benchCase of cases) {
      const { warmup, measure: seconds, rounds, pairs } = durationsOf(benchCase);
      process.stderr.write(
        `bench: ${benchCase.id} (${CONNECTIONS} connections; ${pairs === 1 ? "per server" : `${pairs} pairs of servers, each`} ` +
          `${warmup} s warm-up, then ${seconds} s in ${rounds} turns)\n`,
      );
      results.push(await runCase(benchCase, scratch));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const report = {
    date: new Date().toISOString(),
    command,
    machine: machine(),
    nodeFlags: NODE_FLAGS,
    connections: CONNECTIONS,
    quick: args.quick,
    profile: args.profile,
    seconds: Math.round((Date.now() - started) / 1000),
    cases: results,
    targets: targets(results),
    capacity: capacity(results),
  };
  const out = args.out ?? join(ROOT, "bench", "results", `${report.date.replaceAll(":", "-").replace(/\.\d+Z$/, "Z")}${args.quick ? "-quick" : ""}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  const m = report.machine;
  process.stdout.write(
    `\n${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; ${CONNECTIONS} connections; ${report.seconds} s\n\n` +
      `${table(results)}\n\n` +
      report.targets
        .map((t) => `${t.holds ? "holds " : "misses"}  ${t.target}: ${t.value.toFixed(2)}${t.byCpu !== undefined ? ` (by CPU time: ${t.byCpu.toFixed(2)})` : ""}`)
        .join("\n") +
      `\n\nCPU per sync (µs): ${Object.entries(report.capacity.cpuMicrosPerSync).map(([id, us]) => `${id} ${us}`).join(", ")}` +
      (report.capacity.sandboxesPerTenthOfACore !== undefined
        ? `\nSandboxes one replica serves at a ${RESYNC_SECONDS} s resync within a tenth of a core: ${report.capacity.sandboxesPerTenthOfACore.toLocaleString("en-US")}`
        : "") +
      `\n\nWrote ${relative(ROOT, out)}${args.profile ? "; CPU profiles in bench/profiles/ (npm run bench:profile-summary)" : ""}\n`,
  );
}

await main();
