/**
 * The build the benchmarks measure: `tsc -p tsconfig.bench.json` into bench/.build, the hook
 * server as `npm start` runs it (tsc's output, not tsx's) plus the baseline server.
 */
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUILD = join(ROOT, "bench", ".build");

/** Builds bench/.build; false if tsc failed (it has printed why). */
export function buildForBench(): boolean {
  process.stderr.write("bench: building the hook server and the baseline (tsc -p tsconfig.bench.json)\n");
  try {
    execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.bench.json")], {
      cwd: ROOT,
      stdio: "inherit",
    });
    return true;
  } catch {
    return false;
  }
}
