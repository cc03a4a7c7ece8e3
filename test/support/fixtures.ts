/**
 * Fixture folders: `test/fixtures/<parent>/<case>/request.json` (a whole Metacontroller request
 * body), `response.json` (the golden answer) and an optional `fixture.json` naming the hook, the
 * environment and the clock. `UPDATE_GOLDEN=1 npm test` rewrites the goldens.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

export interface FixtureOptions {
  /** @default "sync" */
  hook?: "customize" | "sync" | "finalize";
  env?: Record<string, string>;
  now?: string;
  /**
   * Objects of the request (`Kind/name`) that our CRDs reject on purpose: the fixture shows what
   * the hooks do when the cluster holds objects from another CRD version.
   */
  outsideCrds?: string[];
  /**
   * How many times the answer's children must be fed back as observed before they stop
   * changing: 2 for a first sync, whose new pods wait for the ServiceAccount it asks for.
   * @default 1
   */
  settles?: number;
}

export interface FixtureCase {
  name: string;
  /** The parent kind's folder, which is also the hooks' route prefix: `sandbox`, `warmpool`. */
  parent: string;
  dir: string;
  options: FixtureOptions;
  /** A fresh deep copy on every call: hooks and the validator must never share a mutated fixture. */
  request(): Record<string, unknown>;
  golden(): unknown;
}

export function fixtureCases(parent: string): FixtureCase[] {
  const root = join(FIXTURES, parent);
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const dir = join(root, name);
      const optionsFile = join(dir, "fixture.json");
      const options = existsSync(optionsFile) ? (readJson(optionsFile) as FixtureOptions) : {};
      return {
        name,
        parent,
        dir,
        options,
        request: () => readJson(join(dir, "request.json")) as Record<string, unknown>,
        golden: () => readJson(join(dir, "response.json")),
      };
    });
}

export const updatingGoldens = process.env.UPDATE_GOLDEN === "1";

export function writeGolden(fixture: FixtureCase, value: unknown): void {
  writeFileSync(join(fixture.dir, "response.json"), `${stableStringify(value)}\n`);
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** JSON with object keys sorted and two-space indent: goldens diff cleanly. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
