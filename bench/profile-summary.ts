/**
 * `npm run bench:profile-summary -- <file.cpuprofile>… [--top 30] [--by function|package] [--inclusive]`:
 * where a `node --cpu-prof` profile spent its time, as self time (or with --inclusive, time with
 * callees, each function counted once per stack) summed by function (name, file and line) or by
 * package (node_modules/<name>, this project's folders, node internals), largest first.
 * `npm run bench -- --profile` writes one profile per case to bench/profiles/.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const { values: options, positionals: files } = parseArgs({
  options: {
    top: { type: "string", default: "30" },
    by: { type: "string", default: "function" },
    inclusive: { type: "boolean", default: false },
  },
  allowPositionals: true,
});

function place(url: string): string {
  if (url === "") return "";
  const path = url.startsWith("file://") ? relative(process.cwd(), new URL(url).pathname) : url;
  return path;
}

function packageOf(url: string): string {
  if (url === "") return "(native / V8)";
  if (url.startsWith("node:")) return "node:internals";
  const path = place(url);
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (module?.[1] !== undefined) return module[1];
  const folder = /^(?:bench\/\.build\/|dist\/)?([^/]+)\//.exec(path);
  return folder?.[1] !== undefined ? `${folder[1]}/` : path;
}

function keyOf(frame: CallFrame): string {
  if (options.by === "package") return packageOf(frame.url);
  const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
  const where = place(frame.url);
  return where === "" ? name : `${name}  ${where}:${frame.lineNumber + 1}`;
}

if (files.length === 0) {
  process.stderr.write("usage: npm run bench:profile-summary -- <file.cpuprofile>… [--top N] [--by function|package]\n");
  process.exit(2);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Self time per node: the sampled intervals attributed to it (timeDeltas[i] precedes samples[i]).
  const selfMicros = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] ?? 0;
    const delta = deltas[i + 1] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  }
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    if (node === undefined) continue;
    total += micros;
    if (node.callFrame.functionName === "(idle)") {
      idle += micros;
      continue;
    }
    // Self time goes to the sampled frame; inclusive time to every distinct frame on its stack.
    const keys = new Set<string>();
    for (let at: ProfileNode | undefined = node; at !== undefined; at = options.inclusive ? byId.get(parent.get(at.id) ?? -1) : undefined) {
      keys.add(keyOf(at.callFrame));
    }
    for (const key of keys) totals.set(key, (totals.get(key) ?? 0) + micros);
  }
  const busy = total - idle;
  process.stdout.write(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)}%)\n`);
  process.stdout.write(`${options.inclusive ? "inclusive" : "self"} time, share of the busy time, by ${options.by}:\n`);
  const top = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(options.top));
  for (const [key, micros] of top) {
    process.stdout.write(`${((micros / busy) * 100).toFixed(1).padStart(6)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
  }
}
