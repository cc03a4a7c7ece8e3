/**
 * monitoring/ read the way the tests need it: the PrometheusRule's groups, the Grafana dashboard's
 * queries with Grafana's variables replaced by concrete values, and the metric names a PromQL
 * expression reads. Used by test/monitoring-names.test.ts (the unit tier) and
 * test/monitoring/promtool.test.ts (npm run test:monitoring).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, yamlObjects } from "../support/manifests.js";

export const MONITORING = join(REPO, "monitoring");
export const PROMETHEUS_RULE_FILE = join(MONITORING, "prometheusrule.yaml");
export const DASHBOARD_FILE = join(MONITORING, "dashboards", "llmsafespace.json");
export const RUNBOOK_FILE = join(REPO, "docs", "RUNBOOK.md");
/** Where runbook_url points until the project has a public home; forks change it (docs/RUNBOOK.md). */
export const RUNBOOK_BASE = "https://github.com/llmsafespace/llmsafespace-hooks/blob/main/docs/RUNBOOK.md";

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** The spec of monitoring/prometheusrule.yaml: what Prometheus loads as a rules file. */
export function ruleSpec(): { groups: RuleGroup[] } {
  const objects = yamlObjects(PROMETHEUS_RULE_FILE).filter((object) => object.kind === "PrometheusRule");
  if (objects.length !== 1) throw new Error(`${PROMETHEUS_RULE_FILE}: expected one PrometheusRule, found ${objects.length}`);
  return objects[0]!.spec as { groups: RuleGroup[] };
}

export function rules(): Rule[] {
  return ruleSpec().groups.flatMap((group) => group.rules);
}

// ---- the dashboard ------------------------------------------------------------------------------

interface Target {
  expr?: string;
}

interface Panel {
  id?: number;
  title?: string;
  type?: string;
  targets?: Target[];
  panels?: Panel[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels: Panel[];
  templating?: { list?: TemplateVariable[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as Dashboard;
}

/** Every panel (rows' nested panels included), in order. */
function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

export interface DashboardQuery {
  /** Where it comes from, for messages: the panel's title or the variable's name. */
  source: string;
  /** The query as the dashboard has it, Grafana variables and all. */
  expr: string;
}

/** Every panel target's `expr`. */
export function panelQueries(board: Dashboard = dashboard()): DashboardQuery[] {
  return allPanels(board.panels).flatMap((panel) =>
    (panel.targets ?? []).filter((target) => target.expr !== undefined).map((target) => ({ source: `panel ${panel.id ?? "?"} "${panel.title ?? ""}"`, expr: target.expr! })),
  );
}

/**
 * The queries of the dashboard's `query` variables, as PromQL: Grafana's
 * `label_values(metric, label)` asks for the values of `label` among `metric`'s series, which
 * `group by (label) (metric)` reads the same series for.
 */
export function variableQueries(board: Dashboard = dashboard()): DashboardQuery[] {
  return (board.templating?.list ?? [])
    .filter((variable) => variable.type === "query")
    .map((variable) => {
      const query = typeof variable.query === "string" ? variable.query : (variable.query?.query ?? variable.definition ?? "");
      const labelValues = /^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$/.exec(query);
      return { source: `variable ${variable.name}`, expr: labelValues === null ? query : `group by (${labelValues[2]}) (${labelValues[1]})` };
    });
}

/** Grafana's own variables, with the values a 5-minute view at a 1-minute step would give them. */
const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: "5m",
  __interval: "1m",
  __interval_ms: "60000",
  __range: "1h",
  __range_s: "3600",
  __range_ms: "3600000",
};

/** The dashboard's own variables, each with one concrete value. */
const DASHBOARD_VARIABLES: Record<string, string> = {
  datasource: "prometheus",
  runtime: "python:3.10",
};

/** The names of the dashboard's template variables. */
export function templateVariableNames(board: Dashboard = dashboard()): string[] {
  return (board.templating?.list ?? []).map((variable) => variable.name);
}

/** Every variable of the dashboard has a value here (the test that uses it checks this). */
export function missingVariableValues(board: Dashboard = dashboard()): string[] {
  return templateVariableNames(board).filter((name) => DASHBOARD_VARIABLES[name] === undefined);
}

/**
 * A dashboard query with every Grafana variable (`$name`, `${name}`, `${name:format}`,
 * `[[name]]`) replaced by a concrete value. Throws on a variable it has no value for.
 */
export function substituteVariables(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g, (match, braced?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? "";
    const value = GRAFANA_VARIABLES[name] ?? DASHBOARD_VARIABLES[name];
    if (value === undefined) throw new Error(`no value for the Grafana variable ${match} in: ${expr}`);
    return value;
  });
}

// ---- PromQL -----------------------------------------------------------------------------------

/**
 * The metric names an expression reads: identifiers outside string literals that are not
 * functions, keywords or label names — approximated by what the tests need, names that start
 * with `llmsafespace_` or hold a `:` (recording rules). Durations (`5m`) and subquery steps
 * (`[5m:1m]`) are not names: a name does not start right after a letter, digit or colon.
 */
export function metricNames(expr: string): string[] {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const names = [...code.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*/g)].map((match) => match[0]);
  return [...new Set(names.filter((name) => name.startsWith("llmsafespace_") || name.includes(":")))];
}

/** A name a histogram's or summary's series has, without its `_bucket`, `_count` or `_sum`. */
export function familyCandidates(name: string): string[] {
  const base = /^(.*)_(bucket|count|sum)$/.exec(name)?.[1];
  return base === undefined ? [name] : [name, base];
}
