/**
 * monitoring/ against the server, without Prometheus (promtool's checks are in
 * test/monitoring/promtool.test.ts, npm run test:monitoring): every llmsafespace_ metric the rules
 * and the dashboard read is a family the server's /metrics serves, every recording rule the
 * dashboard reads is defined, every alert has a runbook section, and the kustomize Component
 * names files that exist and parse.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import request from "supertest";
import { createMetrics } from "../src/server/metrics.js";
import { testApp } from "./support/app.js";
import { MANIFESTS, yamlObjects, type ManifestObject } from "./support/manifests.js";
import { countSample } from "./support/metrics-sample.js";
import {
  dashboard,
  DASHBOARD_FILE,
  familyCandidates,
  metricNames,
  MONITORING,
  panelQueries,
  rules,
  RUNBOOK_BASE,
  RUNBOOK_FILE,
  templateVariableNames,
  variableQueries,
} from "./monitoring/support.js";

interface ComponentFile {
  kind?: string;
  resources?: string[];
  patches?: { path?: string }[];
  configMapGenerator?: {
    name: string;
    namespace?: string;
    files?: string[];
    options?: { labels?: Record<string, string>; disableNameSuffixHash?: boolean };
  }[];
}

const component = yamlObjects(join(MONITORING, "kustomization.yaml"))[0] as unknown as ComponentFile;
const RULES = rules();
const RECORDS = new Set(RULES.flatMap((rule) => (rule.record !== undefined ? [rule.record] : [])));
const ALERTS = RULES.filter((rule) => rule.alert !== undefined);

/** Every name an expression of the rules or the dashboard reads, with where it is read. */
const READS = [
  ...RULES.map((rule) => ({ source: `rule ${rule.record ?? rule.alert ?? "?"}`, expr: rule.expr, dashboard: false })),
  ...[...panelQueries(), ...variableQueries()].map((query) => ({ ...query, dashboard: true })),
].flatMap(({ source, expr, dashboard }) => metricNames(expr).map((name) => ({ name, source, dashboard })));

function sourcesOf(name: string): string {
  return [...new Set(READS.filter((read) => read.name === name).map((read) => read.source))].join(", ");
}

/** Files of a folder and below, relative to it, sorted. */
function filesBelow(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort();
}

describe("monitoring › metric names", () => {
  /** `# TYPE` of every family /metrics serves, after the sample calls: name → type. */
  let families = new Map<string, string>();

  before(async () => {
    const metrics = createMetrics({ processMetrics: true });
    countSample(metrics);
    const response = await request(testApp({ metrics })).get("/metrics");
    assert.equal(response.status, 200);
    families = new Map([...response.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]));
  });

  it("monitoring › the rules and the dashboard › read llmsafespace_ metrics at all", () => {
    assert.ok(READS.some((read) => read.name.startsWith("llmsafespace_") && !read.dashboard));
    assert.ok(READS.some((read) => read.name.startsWith("llmsafespace_") && read.dashboard));
  });

  for (const name of [...new Set(READS.map((read) => read.name).filter((name) => name.startsWith("llmsafespace_")))].sort()) {
    it(`monitoring › ${name} › is a family of /metrics (read by ${sourcesOf(name)})`, () => {
      const [exact, base] = familyCandidates(name);
      const found = families.has(exact!) || (base !== undefined && ["histogram", "summary"].includes(families.get(base) ?? ""));
      assert.ok(found, `${name} is not served by /metrics; families: ${[...families.keys()].join(", ")}`);
    });
  }

  for (const name of [...new Set(READS.map((read) => read.name).filter((name) => name.includes(":")))].sort()) {
    it(`monitoring › ${name} › is a recording rule of monitoring/prometheusrule.yaml (read by ${sourcesOf(name)})`, () => {
      assert.ok(RECORDS.has(name), `${name} is not recorded; the recording rules: ${[...RECORDS].join(", ")}`);
    });
  }

  it("monitoring › recording rules › are named level:metric:operations", () => {
    for (const record of RECORDS) assert.match(record, /^[a-z_]+:llmsafespace_[a-z0-9_]+:[a-z0-9_]+$/, record);
  });
});

describe("monitoring › alerts", () => {
  /** The `## ` headings of docs/RUNBOOK.md: GitHub's anchor of each is its text in lower case. */
  const headings = () => new Set([...readFileSync(RUNBOOK_FILE, "utf8").matchAll(/^## (\S+)\s*$/gm)].map((match) => match[1]!));

  it("monitoring › alerts › the six of issue #15", () => {
    assert.deepEqual(ALERTS.map((alert) => alert.alert).sort(), [
      "LLMSafeSpaceHookErrorRatioHigh",
      "LLMSafeSpaceHookLatencyHigh",
      "LLMSafeSpaceHooksNotCalled",
      "LLMSafeSpaceSandboxesStuckStarting",
      "LLMSafeSpaceWarmPodClaimErrors",
      "LLMSafeSpaceWarmPoolEmpty",
    ]);
  });

  for (const alert of ALERTS) {
    const name = alert.alert!;
    it(`monitoring › ${name} › has a severity, a summary, a description and a runbook section`, () => {
      assert.match(alert.labels?.severity ?? "", /^(critical|warning|info)$/);
      assert.ok((alert.annotations?.summary ?? "") !== "", "summary");
      assert.ok((alert.annotations?.description ?? "") !== "", "description");
      assert.equal(alert.annotations?.runbook_url, `${RUNBOOK_BASE}#${name.toLowerCase()}`);
      assert.ok(headings().has(name), `docs/RUNBOOK.md has no section "## ${name}" (anchor #${name.toLowerCase()})`);
    });
  }
});

describe("monitoring › the kustomize Component", () => {
  const named = [
    ...(component.resources ?? []),
    ...(component.patches ?? []).flatMap((patch) => (patch.path !== undefined ? [patch.path] : [])),
    ...(component.configMapGenerator ?? []).flatMap((generator) => generator.files ?? []),
  ];
  const objects = (component.resources ?? []).flatMap((file) => yamlObjects(join(MONITORING, file)));
  const ofKind = (kind: string): ManifestObject => {
    const found = objects.filter((object) => object.kind === kind);
    assert.equal(found.length, 1, `expected one ${kind}`);
    return found[0]!;
  };

  it("monitoring › kustomization.yaml › is a Component", () => {
    assert.equal(component.kind, "Component");
  });

  it("monitoring › kustomization.yaml › names files that exist, and every file beside it", () => {
    for (const file of named) assert.ok(existsSync(join(MONITORING, file)), `${file} does not exist`);
    assert.deepEqual([...named].sort(), filesBelow(MONITORING).filter((file) => file !== "kustomization.yaml"));
  });

  for (const file of filesBelow(MONITORING).filter((file) => file.endsWith(".yaml"))) {
    it(`monitoring › ${file} › parses as YAML`, () => {
      assert.ok(yamlObjects(join(MONITORING, file)).length > 0);
    });
  }

  it("monitoring › its objects › belong in the namespace llmsafespace", () => {
    for (const object of objects) assert.equal(object.metadata.namespace, "llmsafespace", `${object.kind} ${object.metadata.name}`);
    for (const generator of component.configMapGenerator ?? []) assert.equal(generator.namespace, "llmsafespace", generator.name);
  });

  it("monitoring › the dashboard › is a ConfigMap for Grafana's sidecar, under a fixed name", () => {
    const generator = (component.configMapGenerator ?? []).find((g) => g.files?.includes("dashboards/llmsafespace.json"));
    assert.ok(generator !== undefined);
    const { labels, disableNameSuffixHash } = generator.options ?? {};
    assert.equal(labels?.grafana_dashboard, "1");
    assert.equal(disableNameSuffixHash, true);
  });

  it("monitoring › the dashboard › parses, with a fixed uid, schemaVersion 39 and a prometheus datasource variable", () => {
    assert.doesNotThrow(() => JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as unknown);
    const board = dashboard();
    assert.equal(board.uid, "llmsafespace-hooks");
    assert.equal(board.schemaVersion, 39);
    const datasource = board.templating?.list?.find((variable) => variable.type === "datasource");
    assert.equal(datasource?.name, "datasource");
    assert.equal(datasource.query, "prometheus");
    assert.ok(templateVariableNames(board).includes("datasource"));
  });

  it("monitoring › servicemonitor.yaml › scrapes /metrics on the port and Service labels of metacontroller/", () => {
    const spec = ofKind("ServiceMonitor").spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
    const service = yamlObjects(join(MANIFESTS, "service.yaml"))[0]!;
    const ports = (service.spec as { ports: { name: string }[] }).ports.map((port) => port.name);
    const labels = (yamlObjects(join(MANIFESTS, "kustomization.yaml"))[0] as unknown as { labels: { pairs: Record<string, string> }[] }).labels.flatMap((l) =>
      Object.entries(l.pairs),
    );
    assert.deepEqual(spec.endpoints.map((endpoint) => [endpoint.port, endpoint.path]), [["http", "/metrics"]]);
    assert.ok(ports.includes("http"));
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) {
      assert.ok(labels.some(([k, v]) => k === key && v === value), `the Service does not get the label ${key}=${value}`);
    }
  });

  it("monitoring › networkpolicy-prometheus.yaml › opens the hook server's http port, and nothing else", () => {
    const policy = ofKind("NetworkPolicy").spec as { policyTypes: string[]; ingress: { ports: { port: number | string }[] }[]; egress?: unknown };
    const deployment = yamlObjects(join(MANIFESTS, "deployment.yaml"))[0]!;
    type Containers = { template: { spec: { containers: { ports?: { name: string; containerPort: number }[] }[] } } };
    const http = (deployment.spec as Containers).template.spec.containers[0]!.ports!.find((port) => port.name === "http")!.containerPort;
    assert.deepEqual(policy.policyTypes, ["Ingress"]);
    assert.equal(policy.egress, undefined);
    assert.deepEqual(policy.ingress.flatMap((rule) => rule.ports.map((port) => port.port)), [http]);
  });
});
