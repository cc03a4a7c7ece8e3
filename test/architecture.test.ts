/**
 * The layout of src/ tells the architecture, and these checks keep it so: src/ holds only
 * folders, one per concern; a folder reaches another only through its index.ts; hooks/ reaches
 * src/ only through indexes; the folders depend on each other in one direction; and no module
 * imports itself round a cycle.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { REPO } from "./support/manifests.js";

const SRC = join(REPO, "src");
const HOOKS = join(REPO, "hooks");

/** The folders of src/, from the bottom of the dependency order up. */
const FOLDERS = ["api", "children", "sandbox", "warm-pool", "server", "render"] as const;

/**
 * Modules another folder may import besides an index, each with why. warm-pod-claimer.ts loads
 * the Kubernetes client, most of the server's memory at rest; the index leaves it out so that
 * only main.ts loads it, and only when there is a cluster.
 */
const ENTRY_POINTS = new Set(["warm-pool/warm-pod-claimer.ts"]);

function tsFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** The project modules a file imports (static, dynamic, re-exports; type-only ones too). */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const [, specifier = ""] of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"(\.[^"]+)"/g)) {
    const target = resolve(dirname(file), specifier.replace(/\.js$/, ".ts"));
    if (existsSync(target)) found.push(target);
  }
  return found;
}

/** `api/pod.ts` → `api`; a file outside src/ → undefined. */
function folderOf(file: string): string | undefined {
  const path = relative(SRC, file);
  if (path.startsWith("..")) return undefined;
  return path.includes(sep) ? path.split(sep)[0] : "";
}

const files = [...tsFiles(SRC), ...tsFiles(HOOKS)];
const graph = new Map(files.map((file) => [file, imports(file)]));

describe("architecture", () => {
  it("architecture › src/ › holds only the folders of its concerns, each with an index.ts", () => {
    const entries = readdirSync(SRC).sort();
    assert.deepEqual(entries, [...FOLDERS].sort());
    for (const folder of FOLDERS) assert.ok(existsSync(join(SRC, folder, "index.ts")), `${folder}/index.ts`);
  });

  it("architecture › a folder › reaches another only through its index.ts", () => {
    const reaches: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      for (const target of targets) {
        const to = folderOf(target);
        if (to === undefined || to === from) continue;
        const path = relative(SRC, target).split(sep).join("/");
        if (path === `${to}/index.ts` || (ENTRY_POINTS.has(path) && from !== undefined)) continue;
        reaches.push(`${relative(REPO, file)} → src/${path}`);
      }
    }
    assert.deepEqual(reaches, []);
  });

  it("architecture › the folders › depend on each other in one direction", () => {
    const backwards: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      if (from === undefined || from === "") continue;
      for (const target of targets) {
        const to = folderOf(target);
        // hooks/ sits between the concerns it uses and the server that calls it.
        const rank = (folder: string | undefined) => (folder === undefined ? FOLDERS.indexOf("server") - 0.5 : FOLDERS.indexOf(folder as (typeof FOLDERS)[number]));
        if (rank(to) > rank(from)) backwards.push(`${relative(REPO, file)} → ${relative(REPO, target)}`);
      }
    }
    assert.deepEqual(backwards, []);
  });

  it("architecture › the modules of src/ and hooks/ › import no cycle", () => {
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const cycles: string[] = [];
    const visit = (file: string) => {
      state.set(file, "open");
      path.push(file);
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === "open") cycles.push([...path.slice(path.indexOf(target)), target].map((f) => relative(REPO, f)).join(" → "));
        else if (state.get(target) === undefined) visit(target);
      }
      path.pop();
      state.set(file, "done");
    };
    for (const file of files) if (state.get(file) === undefined) visit(file);
    assert.deepEqual(cycles, []);
  });
});
