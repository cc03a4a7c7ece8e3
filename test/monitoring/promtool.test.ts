/**
 * monitoring/ checked by Prometheus' own promtool (npm run test:monitoring): the PrometheusRule's
 * groups load (`promtool check rules`) and behave as test/monitoring/rules.test.yaml expects
 * (`promtool test rules`), and every query of the Grafana dashboard parses as PromQL once
 * Grafana's variables have values.
 *
 * promtool is built from the Go module proxy by test/prometheus/build.sh (see its README): the
 * first run needs Go and takes about four minutes, later runs reuse the cached binary.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { REPO } from "../support/manifests.js";
import { missingVariableValues, panelQueries, ruleSpec, rules, substituteVariables, variableQueries } from "./support.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const RULE_TESTS = join(HERE, "rules.test.yaml");
const BUILD = join(REPO, "test", "prometheus", "build.sh");
/** A first build takes about 4 minutes on two cores; leave room for a slow machine. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

function run(promtool: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(promtool, args, { encoding: "utf8", timeout: 120_000 });
}

function report(args: string[], result: SpawnSyncReturns<string>): string {
  return `promtool ${args.join(" ")} exited ${result.status ?? result.signal ?? "?"}${result.error !== undefined ? ` (${result.error.message})` : ""}:\n${result.stdout}${result.stderr}`;
}

describe("monitoring › promtool", function () {
  let promtool = "";
  let work = "";

  before(function () {
    this.timeout(BUILD_TIMEOUT_MS + 60_000);
    // build.sh reports its progress on stderr (shown as it goes); its last stdout line is the
    // directory that holds promtool.
    const build = spawnSync("bash", [BUILD], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: BUILD_TIMEOUT_MS });
    assert.equal(build.status, 0, `test/prometheus/build.sh failed (${build.error?.message ?? `exit ${build.status ?? build.signal ?? "?"}`}):\n${build.stdout}`);
    const directory = build.stdout.trim().split("\n").at(-1) ?? "";
    assert.notEqual(directory, "", "test/prometheus/build.sh printed no directory");
    promtool = join(directory, "promtool");

    // The rules file is the PrometheusRule's spec; the unit tests sit next to it, as their
    // rule_files (rules.yaml, relative to the test file) expect.
    work = mkdtempSync(join(tmpdir(), "llmsafespace-promtool-"));
    writeFileSync(join(work, "rules.yaml"), stringify(ruleSpec()));
    copyFileSync(RULE_TESTS, join(work, "rules.test.yaml"));
  });

  after(() => {
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("monitoring › promtool › check rules: the PrometheusRule's groups load, with no duplicate rule", () => {
    const args = ["check", "rules", "--lint=all", "--lint-fatal", join(work, "rules.yaml")];
    const result = run(promtool, args);
    assert.equal(result.status, 0, report(args, result));
    assert.match(result.stdout, new RegExp(`SUCCESS: ${rules().length} rules found`), report(args, result));
  });

  it("monitoring › promtool › test rules: every alert fires and stays quiet, every recording rule has its value (rules.test.yaml)", () => {
    const args = ["test", "rules", join(work, "rules.test.yaml")];
    const result = run(promtool, args);
    assert.equal(result.status, 0, report(args, result));
  });

  it("monitoring › promtool › check rules: every query of the dashboard parses, Grafana's variables replaced", () => {
    assert.deepEqual(missingVariableValues(), [], "every template variable of the dashboard needs a value in test/monitoring/support.ts");
    const queries = [...panelQueries(), ...variableQueries()];
    assert.ok(queries.length > 0, "the dashboard has no queries");
    const file = join(work, "dashboard.rules.yaml");
    const group = { name: "dashboard", rules: queries.map((query, n) => ({ record: `dashboard:panel_${n}`, expr: substituteVariables(query.expr) })) };
    writeFileSync(file, stringify({ groups: [group] }));
    const args = ["check", "rules", file];
    const result = run(promtool, args);
    const numbered = queries.map((query, n) => `dashboard:panel_${n}  ${query.source}: ${query.expr}`).join("\n");
    assert.equal(result.status, 0, `${report(args, result)}\nthe queries, by record name:\n${numbered}`);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`), report(args, result));
  });
});
