/**
 * Every pattern the server evaluates on request data is free of catastrophic backtracking:
 * ajv runs the CRDs' `pattern`s with JavaScript's backtracking RegExp on bodies anyone who can
 * reach the port may send. recheck decides it by analysis (and fuzzing where analysis cannot).
 */
import assert from "node:assert/strict";
import { checkSync } from "recheck";
import { loadCrdSchemas, type OpenApiSchema } from "../src/api/crds.js";
import { BEARER } from "../src/server/auth.js";
import { ENVELOPE_PATTERNS } from "../src/server/validation.js";

function patterns(schema: unknown, path: string, found: Map<string, string>): void {
  if (Array.isArray(schema)) {
    schema.forEach((item, i) => { patterns(item, `${path}[${i}]`, found); });
    return;
  }
  if (typeof schema !== "object" || schema === null) return;
  for (const [key, value] of Object.entries(schema as OpenApiSchema)) {
    if (key === "pattern" && typeof value === "string") found.set(value, path);
    else patterns(value, `${path}.${key}`, found);
  }
}

describe("regular expressions", () => {
  const found = new Map<string, string>();
  for (const [kind, crd] of loadCrdSchemas()) {
    patterns(crd.spec, `${kind}.spec`, found);
    if (crd.status !== undefined) patterns(crd.status, `${kind}.status`, found);
  }

  ENVELOPE_PATTERNS.forEach((pattern, i) => found.set(pattern, `envelope[${i}]`));

  // Patterns the server runs on request text outside the schemas, with their own flags.
  const server = new Map<RegExp, string>([[BEARER, "the Authorization header"]]);
  for (const [pattern, what] of server) {
    it(`server patterns › ${what} › cannot backtrack catastrophically`, function () {
      this.timeout(20_000);
      const result = checkSync(pattern.source, pattern.flags);
      const attack = result.status === "vulnerable" ? ` (${result.complexity.summary}; attack ${result.attack.pattern})` : "";
      assert.equal(result.status, "safe", `${pattern.source}${attack}`);
    });
  }

  it("CRD patterns › there are patterns to check › found", () => {
    assert.ok(found.size >= 5, `only ${found.size} patterns`);
  });

  for (const [pattern, path] of found) {
    it(`CRD patterns › ${path} › cannot backtrack catastrophically`, function () {
      this.timeout(20_000);
      // ajv compiles patterns with the "u" flag.
      const result = checkSync(pattern, "u");
      const attack = result.status === "vulnerable" ? ` (${result.complexity.summary}; attack ${result.attack.pattern})` : "";
      assert.equal(result.status, "safe", `${pattern}${attack}`);
    });
  }
});
