/**
 * What a cluster operator applies, checked without a cluster: the manifests in metacontroller/
 * (hook server hardening, CompositeController update strategies and hooks, RBAC against
 * docs/RBAC.md) and the files in examples/ (valid against crds/, consistent with each other, and
 * answered by the hooks without a failure). The API-server tier builds the same kustomizations
 * and dry-runs every object (test/integration/metacontroller.test.ts).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import request from "supertest";
import { parse as parseYaml } from "yaml";
import { defaultConfig, loadConfig } from "../src/server/config.js";
import { loadCrdSchemas, type OpenApiSchema } from "../src/api/crds.js";
import { describeErrors, kubernetesAjv } from "../src/server/validation.js";
import { warmPodDifferences } from "../src/warm-pool/warm-pod-match.js";
import { testApp } from "./support/app.js";
import { validateKubernetesObject } from "./support/k8s-schema.js";
import {
  answerExample,
  compositeController,
  controllerSpec,
  EXAMPLES,
  exampleObjects,
  MANIFESTS,
  REPO,
  yamlFiles,
  yamlObjects,
  type ManifestObject,
} from "./support/manifests.js";
import { RESTRICTED_RULES, restrictedViolations, restrictedViolationsForSpec, type PodSpecLike } from "./support/pod-security.js";

const REFERENCE = join(REPO, "..", "shared", "reference", "metacontroller-v4.17.2");
const COMPONENTS = join(MANIFESTS, "components");
const NAMESPACE = "llmsafespace";
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CompositeController", "RuntimeEnvironment"]);

// ---- reading ----------------------------------------------------------------------------------

interface Kustomization {
  kind?: string;
  resources?: string[];
  components?: string[];
  patches?: { path?: string }[];
}

function kustomization(directory: string): Kustomization {
  return yamlObjects(join(directory, "kustomization.yaml"))[0] as unknown as Kustomization;
}

/** The objects a kustomization folder lists as `resources` (not its patches), with their files. */
function resourcesOf(directory: string): { file: string; object: ManifestObject }[] {
  return (kustomization(directory).resources ?? []).flatMap((file) =>
    yamlObjects(join(directory, file)).map((object) => ({ file: relative(REPO, join(directory, file)), object })),
  );
}

const COMPONENT_DIRS = ["bearer-auth", "cilium"].map((name) => join(COMPONENTS, name));
const MANIFEST_OBJECTS = [MANIFESTS, ...COMPONENT_DIRS].flatMap(resourcesOf);

function one(kind: string, objects = MANIFEST_OBJECTS.map((m) => m.object)): ManifestObject {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  livenessProbe?: { httpGet?: { path?: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
  lifecycle?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    spec: PodSpecLike & {
      serviceAccountName?: string;
      automountServiceAccountToken?: boolean;
      terminationGracePeriodSeconds?: number;
      securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean };
      topologySpreadConstraints?: {
        topologyKey: string;
        whenUnsatisfiable: string;
        labelSelector?: { matchLabels?: Record<string, string> };
      }[];
      containers: Container[];
      volumes?: { name: string; secret?: { secretName?: string; items?: { key: string; path: string }[] } }[];
    };
  };
}

const deployment = () => one("Deployment").spec as DeploymentSpec;
const container = () => deployment().template.spec.containers[0]!;

function includes(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
}

/** A Go duration such as `10s`, `1m30s` or `500ms`, in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h)/g)];
  assert.equal(parts.map((p) => p[0]).join(""), text, `"${text}" is not a Go duration`);
  return parts.reduce((sum, [, value = "0", unit = "s"]) => sum + Number(value) * (units[unit] ?? 0), 0);
}

/** Fields the schema does not declare: the API server would prune (or, strictly, refuse) them. */
function unknownFields(schema: OpenApiSchema, value: unknown, path: string): string[] {
  if (schema["x-kubernetes-preserve-unknown-fields"] === true) return [];
  if (Array.isArray(value)) {
    const items = schema.items as OpenApiSchema | undefined;
    return items === undefined ? [] : value.flatMap((item, index) => unknownFields(items, item, `${path}[${index}]`));
  }
  if (typeof value !== "object" || value === null) return [];
  const properties = schema.properties as Record<string, OpenApiSchema> | undefined;
  const additional = schema.additionalProperties as OpenApiSchema | undefined;
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
    const childSchema = properties?.[key] ?? (typeof additional === "object" ? additional : undefined);
    if (childSchema !== undefined) return unknownFields(childSchema, child, `${path}.${key}`);
    return properties === undefined ? [] : [`${path}.${key}: not in the schema`];
  });
}

/** Errors of `value` against a structural schema: ajv (as the server validates) plus pruning. */
function schemaErrors(schema: OpenApiSchema, value: unknown, path: string): string[] {
  const ajv = kubernetesAjv();
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  const validate = ajv.compile(schema);
  const copy = structuredClone(value);
  const errors = validate(copy) ? [] : describeErrors(validate.errors ?? []).map((e) => (path === "" ? e : `${path}.${e}`));
  return [...errors, ...unknownFields(schema, value, path)];
}

// ---- every file -------------------------------------------------------------------------------

describe("manifests › files", () => {
  for (const path of [...yamlFiles(MANIFESTS), ...yamlFiles(EXAMPLES)]) {
    it(`manifests › ${relative(REPO, path)} › parses as YAML with at least one document`, () => {
      assert.ok(yamlObjects(path).length > 0);
    });
  }

  for (const directory of [MANIFESTS, ...COMPONENT_DIRS]) {
    it(`manifests › ${relative(REPO, directory)}/kustomization.yaml › uses every YAML file beside it`, () => {
      const { resources = [], patches = [] } = kustomization(directory);
      const used = [...resources, ...patches.map((p) => p.path ?? "")].sort();
      const present = yamlFiles(directory)
        .filter((path) => dirname(path) === directory && basename(path) !== "kustomization.yaml")
        .map((path) => basename(path))
        .sort();
      assert.deepEqual(used, present);
    });
  }

  it("manifests › components › are kustomize Components", () => {
    for (const directory of COMPONENT_DIRS) assert.equal(kustomization(directory).kind, "Component", directory);
  });

  for (const { file, object } of MANIFEST_OBJECTS) {
    const name = `${object.kind} ${object.metadata.name}`;
    it(`manifests › ${file} ${name} › names the namespace it belongs in`, () => {
      if (CLUSTER_SCOPED.has(object.kind)) assert.equal(object.metadata.namespace, undefined);
      else assert.equal(object.metadata.namespace, NAMESPACE);
    });
    if (object.kind !== "CompositeController") {
      it(`manifests › ${file} ${name} › is valid against the Kubernetes schema`, () => {
        assert.deepEqual(validateKubernetesObject(object), []);
      });
    }
  }
});

// ---- the hook server --------------------------------------------------------------------------

describe("manifests › hook server", () => {
  const pod = () => ({ spec: deployment().template.spec, metadata: deployment().template.metadata });

  for (const rule of RESTRICTED_RULES) {
    it(`manifests › deployment.yaml pod template › passes Pod Security ${rule.level} rule ${rule.id} (${rule.title})`, () => {
      assert.deepEqual(rule.check(pod()), []);
    });
  }

  it("manifests › deployment.yaml pod template › has no Pod Security restricted violation at all", () => {
    assert.deepEqual(restrictedViolationsForSpec(pod().spec, pod().metadata), []);
  });

  it("manifests › deployment.yaml › runs two replicas as uid/gid 65532 with a read-only root", () => {
    const spec = deployment();
    assert.equal(spec.replicas, 2);
    const { runAsUser, runAsGroup, runAsNonRoot } = spec.template.spec.securityContext ?? {};
    assert.deepEqual({ runAsUser, runAsGroup, runAsNonRoot }, { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true });
    assert.equal(container().securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container().securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container().securityContext?.capabilities?.drop, ["ALL"]);
  });

  it("manifests › deployment.yaml › mounts the service-account token, which the claimer needs, and says so", () => {
    assert.equal(deployment().template.spec.automountServiceAccountToken, true);
    assert.match(readFileSync(join(MANIFESTS, "deployment.yaml"), "utf8"), /claimer calls the Kubernetes API/);
    assert.equal(deployment().template.spec.serviceAccountName, one("ServiceAccount").metadata.name);
  });

  it("manifests › deployment.yaml › probes /healthz and /readyz on port http (8080) and shuts down without preStop", () => {
    assert.deepEqual(container().ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    assert.deepEqual(container().livenessProbe?.httpGet, { path: "/healthz", port: "http" });
    assert.deepEqual(container().readinessProbe?.httpGet, { path: "/readyz", port: "http" });
    assert.equal(container().lifecycle, undefined);
    assert.equal(deployment().template.spec.terminationGracePeriodSeconds, 30);
  });

  it("manifests › deployment.yaml › sets resource requests and limits", () => {
    for (const resource of ["cpu", "memory"]) {
      assert.ok(container().resources?.requests?.[resource], `requests.${resource}`);
      assert.ok(container().resources?.limits?.[resource], `limits.${resource}`);
    }
  });

  it("manifests › deployment.yaml › spreads replicas across nodes without refusing to schedule", () => {
    const spec = deployment();
    const [constraint] = spec.template.spec.topologySpreadConstraints ?? [];
    assert.equal(constraint?.topologyKey, "kubernetes.io/hostname");
    assert.equal(constraint.whenUnsatisfiable, "ScheduleAnyway");
    assert.deepEqual(constraint.labelSelector?.matchLabels, spec.selector.matchLabels);
  });

  it("manifests › deployment.yaml env › is the server's configuration, at its defaults but for the shutdown delay, nothing secret", () => {
    // The variables loadConfig reads, found by watching it read an empty environment.
    const known = new Set<string | symbol>();
    loadConfig(new Proxy({}, { get: (_target, key) => (known.add(key), undefined) }));
    const env: Record<string, string> = {};
    for (const variable of container().env ?? []) {
      assert.equal(variable.valueFrom, undefined, `${variable.name} comes from a plain value`);
      if (variable.name === "NODE_OPTIONS") continue;
      assert.ok(known.has(variable.name), `${variable.name} is a variable the server reads`);
      env[variable.name] = variable.value ?? "";
    }
    assert.equal(env.LOG_LEVEL, "info");
    assert.deepEqual(loadConfig(env), { ...defaultConfig(), shutdownDelayMs: 5000 });
  });

  it("manifests › deployment.yaml › gives the shutdown delay and the longest hook time to finish within the grace period", () => {
    const config = loadConfig(Object.fromEntries((container().env ?? []).map((e) => [e.name, e.value ?? ""])));
    const graceMs = (deployment().template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    assert.ok(config.shutdownDelayMs > 0, "a delay, so endpoints drop the pod before it stops listening");
    assert.ok(config.shutdownDelayMs + config.hookDeadlineMs < graceMs, `${config.shutdownDelayMs} + ${config.hookDeadlineMs} ms < ${graceMs} ms`);
  });

  it("manifests › selectors › of the Deployment, Service, PodDisruptionBudget and NetworkPolicy all pick the server's pods", () => {
    const labels = deployment().template.metadata.labels;
    const selectors = {
      Deployment: deployment().selector.matchLabels,
      Service: (one("Service").spec as { selector: Record<string, string> }).selector,
      PodDisruptionBudget: (one("PodDisruptionBudget").spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
      NetworkPolicy: (one("NetworkPolicy").spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels,
    };
    for (const [kind, selector] of Object.entries(selectors)) {
      assert.ok(Object.keys(selector).length > 0 && includes(labels, selector), `${kind} selector ${JSON.stringify(selector)}`);
    }
    // Never the API service's labels: Sandboxes' api-access policies let pods reach those.
    assert.ok(!includes(labels, defaultConfig().network.apiPodSelector), "the hook server must not look like the API service");
  });

  it("manifests › service.yaml › serves port 80 to the pods' http port", () => {
    assert.deepEqual((one("Service").spec as { ports: unknown[] }).ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
  });

  it("manifests › poddisruptionbudget.yaml › keeps at least one replica", () => {
    assert.equal((one("PodDisruptionBudget").spec as { minAvailable: number }).minAvailable, 1);
  });

  it("manifests › networkpolicy.yaml › lets in only Metacontroller's namespace on 8080/TCP, lets out DNS and the API server", () => {
    const spec = one("NetworkPolicy").spec as { policyTypes: string[]; ingress: unknown[]; egress: { to?: unknown[]; ports: unknown[] }[] };
    assert.deepEqual(spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(spec.ingress, [
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "metacontroller" } } }],
        ports: [{ port: 8080, protocol: "TCP" }],
      },
    ]);
    assert.deepEqual(spec.egress.map((rule) => rule.ports), [
      [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }],
      [{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }],
    ]);
    assert.deepEqual(spec.egress[0]?.to, [
      {
        namespaceSelector: { matchLabels: defaultConfig().network.dnsNamespaceSelector },
        podSelector: { matchLabels: defaultConfig().network.dnsPodSelector },
      },
    ]);
  });
});

// ---- RBAC -------------------------------------------------------------------------------------

/** `group resource verb` for each grant of the table in docs/RBAC.md. */
function documentedGrants(): string[] {
  const doc = readFileSync(join(REPO, "docs", "RBAC.md"), "utf8");
  const grants: string[] = [];
  for (const [, resources = "", verbs = ""] of doc.matchAll(/^\| (`[^|]+`) \| (`[^|]+`) \|/gm)) {
    for (const [, resource = ""] of resources.matchAll(/`([^`]+)`/g)) {
      // `warmpools.llmsafespace.dev/finalizers` → group llmsafespace.dev, warmpools/finalizers
      const [, plural = "", group = "", sub] = /^([a-z]+)(?:\.([a-z0-9.]+))?(\/[a-z]+)?$/.exec(resource) ?? [];
      for (const [, verb = ""] of verbs.matchAll(/`([^`]+)`/g)) grants.push(`${group} ${plural}${sub ?? ""} ${verb}`);
    }
  }
  return grants.sort();
}

describe("manifests › RBAC", () => {
  const rules = () => (one("ClusterRole").rules ?? []) as { apiGroups: string[]; resources: string[]; verbs: string[] }[];

  it("manifests › rbac.yaml ClusterRole › has no wildcard", () => {
    for (const rule of rules()) {
      for (const value of [...rule.apiGroups, ...rule.resources, ...rule.verbs]) assert.ok(!value.includes("*"), JSON.stringify(rule));
    }
  });

  it("manifests › rbac.yaml ClusterRole › grants exactly the verbs and resources docs/RBAC.md lists", () => {
    const granted = rules()
      .flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group} ${resource} ${verb}`))))
      .sort();
    assert.ok(documentedGrants().length >= 7, `docs/RBAC.md table read: ${documentedGrants().join(", ")}`);
    assert.deepEqual(granted, documentedGrants());
  });

  it("manifests › rbac.yaml ClusterRoleBinding › binds the ClusterRole to the server's ServiceAccount", () => {
    const binding = one("ClusterRoleBinding") as ManifestObject & { roleRef: unknown; subjects: unknown };
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: one("ClusterRole").metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: one("ServiceAccount").metadata.name, namespace: NAMESPACE }]);
  });
});

// ---- CompositeControllers ---------------------------------------------------------------------

const CONTROLLERS = [
  {
    resource: "sandboxes",
    route: "sandbox",
    children: [
      ["v1", "pods", "OnDelete"],
      ["v1", "services", "InPlace"],
      ["v1", "serviceaccounts", "InPlace"],
      ["networking.k8s.io/v1", "networkpolicies", "InPlace"],
      ["v1", "persistentvolumeclaims", "OnDelete"],
    ],
  },
  {
    resource: "warmpools",
    route: "warmpool",
    children: [
      ["v1", "pods", "OnDelete"],
      ["v1", "serviceaccounts", "InPlace"],
      ["networking.k8s.io/v1", "networkpolicies", "InPlace"],
    ],
  },
] as const;

/** Never Rolling*: those call the sync hook once per child, and these hooks have side effects. */
const ALLOWED_METHODS = new Set(["OnDelete", "InPlace"]);

describe("manifests › CompositeControllers", () => {
  for (const { resource, route, children } of CONTROLLERS) {
    const controller = () => compositeController(resource);
    const spec = () => controllerSpec(controller());

    it(`manifests › ${resource}.llmsafespace.dev › is named after its parent, generates selectors and resyncs`, () => {
      assert.equal(controller().metadata.name, `${resource}.llmsafespace.dev`);
      assert.deepEqual(spec().parentResource, { apiVersion: "llmsafespace.dev/v1", resource });
      assert.equal(spec().generateSelector, true);
      assert.ok((spec().resyncPeriodSeconds ?? 0) > 0 && (spec().resyncPeriodSeconds ?? 0) <= 300, "resyncPeriodSeconds in (0, 300]");
    });

    it(`manifests › ${resource}.llmsafespace.dev › owns the children of SPEC §4/§6 with their update strategies`, () => {
      assert.deepEqual(
        (spec().childResources ?? []).map((c) => [c.apiVersion, c.resource, c.updateStrategy?.method]),
        children.map((c) => [...c]),
      );
    });

    it(`manifests › ${resource}.llmsafespace.dev › calls customize, sync and finalize with hooks v2 and a timeout above the server's hook deadline`, () => {
      const service = one("Service");
      assert.deepEqual(Object.keys(spec().hooks ?? {}).sort(), ["customize", "finalize", "sync"]);
      for (const hook of ["customize", "sync", "finalize"]) {
        const { version, webhook = {} } = spec().hooks?.[hook] ?? {};
        assert.equal(version, "v2", hook);
        assert.equal(webhook.url, `http://${service.metadata.name}.${service.metadata.namespace ?? ""}/${route}/${hook}`);
        const timeout = durationMs(webhook.timeout ?? "");
        // Above the server's own deadline for a hook (and so its claim deadline): Metacontroller
        // must get the server's answer, never a timeout of its own.
        assert.ok(timeout > defaultConfig().hookDeadlineMs && timeout <= 30_000, `${hook} timeout ${webhook.timeout ?? "unset"}`);
      }
    });

    it(`manifests › ${resource}.llmsafespace.dev › hook paths are routes the server serves`, async () => {
      const app = testApp();
      for (const hook of ["customize", "sync", "finalize"]) {
        const path = new URL(spec().hooks?.[hook]?.webhook?.url ?? "http://x/").pathname;
        const response = await request(app).post(path).set("content-type", "application/json").send("{}");
        assert.equal(response.status, 400, `${path}: ${response.text}`);
      }
    });

    it(`manifests › ${resource}.llmsafespace.dev › is valid against Metacontroller v4.17.2's CompositeController CRD`, function () {
      if (!existsSync(REFERENCE)) this.skip();
      const crd = yamlObjects(join(REFERENCE, "metacontroller-crds-v1.yaml")).find((o) => o.metadata.name === "compositecontrollers.metacontroller.k8s.io");
      const version = (crd?.spec as { versions: { schema: { openAPIV3Schema: OpenApiSchema } }[] }).versions[0]!;
      assert.deepEqual(schemaErrors(version.schema.openAPIV3Schema, controller(), ""), []);
    });
  }

  it("manifests › every child rule, components' included › uses OnDelete or InPlace, never Rolling*", () => {
    const patched = yamlObjects(join(COMPONENTS, "cilium", "compositecontroller-cilium.yaml"))[0] as unknown as { value: { updateStrategy?: { method?: string } } }[];
    const methods = [
      ...CONTROLLERS.flatMap(({ resource }) => (controllerSpec(compositeController(resource)).childResources ?? []).map((c) => c.updateStrategy?.method)),
      ...patched.map((op) => op.value.updateStrategy?.method),
    ];
    for (const method of methods) assert.ok(ALLOWED_METHODS.has(method ?? ""), `update strategy ${method ?? "unset"}`);
  });
});

// ---- components -------------------------------------------------------------------------------

describe("manifests › components", () => {
  const bearer = join(COMPONENTS, "bearer-auth");
  const patch = (file: string) => yamlObjects(join(bearer, file))[0]!;

  it("manifests › bearer-auth › mounts the Secret where HOOK_TOKEN_FILE points, read-only", () => {
    const secret = one("Secret");
    const template = (patch("deployment-token.yaml").spec as DeploymentSpec).template.spec;
    const [hooks] = template.containers;
    const [volume] = template.volumes ?? [];
    const [mount] = hooks?.volumeMounts ?? [];
    assert.equal(volume?.secret?.secretName, secret.metadata.name);
    assert.deepEqual(volume.secret.items, [{ key: "token", path: "token" }]);
    assert.equal(mount?.name, volume.name);
    assert.equal(mount.readOnly, true);
    assert.equal(mount.mountPath, "/var/run/secrets/llmsafespace/token");
    assert.deepEqual(hooks?.env, [{ name: "HOOK_TOKEN_FILE", value: `${mount.mountPath}/token` }]);
  });

  it("manifests › bearer-auth › sends the same Secret's token from every webhook of both controllers", () => {
    const secret = one("Secret");
    const operations = patch("compositecontroller-authorization.yaml") as unknown as { op: string; path: string; value: unknown }[];
    assert.deepEqual(
      operations.map((o) => [o.op, o.path]),
      ["customize", "sync", "finalize"].map((hook) => ["add", `/spec/hooks/${hook}/webhook/authorization`]),
    );
    for (const { value } of operations) {
      assert.deepEqual(value, { type: "Bearer", secretRef: { name: secret.metadata.name, namespace: secret.metadata.namespace, key: "token" } });
    }
  });

  it("manifests › bearer-auth › ships a placeholder the server refuses (shorter than 16 characters)", () => {
    const token = (one("Secret").stringData as { token: string }).token;
    assert.ok(token.length < 16, `placeholder "${token}"`);
    assert.match(readFileSync(join(bearer, "secret.yaml"), "utf8"), /openssl rand -hex 32/);
  });

  it("manifests › metacontroller-rate-limits › appends the README's client-go flags to Metacontroller's own container", () => {
    const directory = join(COMPONENTS, "metacontroller-rate-limits");
    const component = yamlObjects(join(directory, "kustomization.yaml"))[0] as unknown as {
      kind: string;
      patches: { target: Record<string, string>; patch: string }[];
    };
    assert.equal(component.kind, "Component");
    const [only] = component.patches;
    assert.deepEqual(only?.target, { group: "apps", version: "v1", kind: "StatefulSet", name: "metacontroller" });
    const operations = parseYaml(only.patch) as { op: string; path: string; value: string }[];
    assert.deepEqual(new Set(operations.map((o) => `${o.op} ${o.path}`)), new Set(["add /spec/template/spec/containers/0/args/-"]));
    const flags = Object.fromEntries(operations.map((o) => o.value.split("=") as [string, string]));
    assert.deepEqual(flags, { "--client-go-qps": "200", "--client-go-burst": "400" });
    // The README's table says the same.
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    for (const [flag, value] of Object.entries(flags)) assert.match(readme, new RegExp(`\\| \`${flag}\` \\| \\d+ \\| ${value} \\|`));
    // Container 0 of Metacontroller's StatefulSet is Metacontroller itself.
    if (existsSync(REFERENCE)) {
      const statefulSet = yamlObjects(join(REFERENCE, "metacontroller.yaml")).find((o) => o.kind === "StatefulSet");
      const containers = (statefulSet?.spec as DeploymentSpec | undefined)?.template.spec.containers ?? [];
      assert.equal(containers[0]?.name, "metacontroller");
    }
  });

  it("manifests › cilium › switches the server to FQDN_PROVIDER=cilium", () => {
    const template = (yamlObjects(join(COMPONENTS, "cilium", "deployment-fqdn-provider.yaml"))[0]!.spec as DeploymentSpec).template.spec;
    assert.deepEqual(template.containers[0]?.env, [{ name: "FQDN_PROVIDER", value: "cilium" }]);
    assert.equal(loadConfig({ FQDN_PROVIDER: "cilium" }).network.fqdnProvider, "cilium");
  });
});

// ---- examples ---------------------------------------------------------------------------------

describe("manifests › examples", () => {
  const examples = exampleObjects();
  const objects = examples.map((e) => e.object);
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const crds = loadCrdSchemas();
  const specOf = (object: ManifestObject) => (object.spec ?? {}) as Record<string, unknown> & {
    runtime?: string;
    securityLevel?: string;
    profileRef?: { name: string; namespace?: string };
  };

  for (const { file, object } of examples) {
    it(`examples › ${file} ${object.kind} ${object.metadata.name} › is valid against its schema and starts with a comment`, () => {
      const crd = crds.get(object.kind);
      if (crd === undefined) assert.deepEqual(validateKubernetesObject(object), []);
      else {
        assert.equal(object.apiVersion, `${crd.group}/${crd.version}`);
        assert.deepEqual(schemaErrors(crd.spec, object.spec, "spec"), []);
      }
      if (CLUSTER_SCOPED.has(object.kind)) assert.equal(object.metadata.namespace, undefined);
      else if (object.kind !== "Namespace") assert.equal(object.metadata.namespace, "team-a");
      assert.match(readFileSync(join(REPO, file), "utf8"), /^# \S/);
    });
  }

  it("examples › namespace.yaml › enforces Pod Security restricted on team-a", () => {
    const namespace = one("Namespace", objects);
    assert.equal(namespace.metadata.name, "team-a");
    assert.equal(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
  });

  it("examples › Sandboxes › cover every security level, egress by cidr and domain, storage, a warm pod and an idle timeout", () => {
    const sandboxes = ofKind("Sandbox").map(specOf);
    assert.deepEqual([...new Set(sandboxes.map((s) => s.securityLevel ?? "standard"))].sort(), ["custom", "high", "standard"]);
    const egress = ofKind("Sandbox").flatMap((s) => (s.spec as { networkAccess?: { egress?: { cidr?: string; domain?: string }[] } }).networkAccess?.egress ?? []);
    assert.ok(egress.some((rule) => rule.cidr !== undefined) && egress.some((rule) => rule.domain !== undefined));
    assert.ok(ofKind("Sandbox").some((s) => (s.spec as { storage?: { persistent?: boolean } }).storage?.persistent === true));
    assert.ok(ofKind("Sandbox").some((s) => s.metadata.annotations?.["llmsafespace.dev/use-warm-pod"] === "true"));
    assert.ok(ofKind("Sandbox").some((s) => (s.spec as { lifecycle?: { idleTimeout?: number } }).lifecycle?.idleTimeout !== undefined));
  });

  it("examples › Sandboxes and WarmPools › name RuntimeEnvironments and SandboxProfiles the examples define", () => {
    const runtimes = new Set(ofKind("RuntimeEnvironment").map((r) => r.metadata.name));
    const profiles = new Set(ofKind("SandboxProfile").map((p) => `${p.metadata.namespace ?? ""}/${p.metadata.name}`));
    for (const parent of [...ofKind("Sandbox"), ...ofKind("WarmPool")]) {
      const { runtime = "", profileRef } = specOf(parent);
      assert.ok(runtimes.has(runtime.replaceAll(":", "-")), `${parent.metadata.name}: runtime ${runtime}`);
      if (profileRef !== undefined) {
        assert.ok(profiles.has(`${profileRef.namespace ?? parent.metadata.namespace ?? ""}/${profileRef.name}`), `${parent.metadata.name}: profile ${profileRef.name}`);
      }
    }
  });

  for (const parent of [...ofKind("Sandbox"), ...ofKind("WarmPool")]) {
    const name = `${parent.kind} ${parent.metadata.name}`;
    it(`examples › ${name} › is answered without a failure, with children its controller declares`, async () => {
      const answer = await answerExample(parent, objects);
      assert.equal(answer.status, 200, answer.text);
      assert.notEqual(answer.body.status?.phase, "Failed", JSON.stringify(answer.body.status));
      const conditions = (answer.body.status?.conditions ?? []) as { type: string; status: string; reason: string }[];
      const ready = conditions.find((c) => c.type === "Ready");
      // A new parent with no pods yet: its pod (or pool) is starting, nothing is missing or refused.
      assert.ok(ready !== undefined && ["PodPending", "Scaling"].includes(ready.reason), JSON.stringify(ready));
      const declared = new Set(Object.keys(answer.request.children as Record<string, unknown>));
      for (const child of answer.body.children ?? []) {
        assert.ok(declared.has(`${child.kind}.${child.apiVersion}`), `${child.kind} is not a child type of the controller`);
        assert.deepEqual(validateKubernetesObject(child), [], `${child.kind} ${child.metadata.name}`);
        if (child.kind === "Pod") assert.deepEqual(restrictedViolations(child), []);
      }
    });
  }

  it("examples › sandbox-warm.yaml › would get exactly the pod the WarmPool keeps, so it can claim one", async () => {
    const sandbox = ofKind("Sandbox").find((s) => s.metadata.annotations?.["llmsafespace.dev/use-warm-pod"] === "true")!;
    const pool = ofKind("WarmPool").find((p) => specOf(p).runtime === specOf(sandbox).runtime)!;
    assert.equal(specOf(pool).securityLevel ?? "standard", specOf(sandbox).securityLevel ?? "standard");
    const podOf = async (parent: ManifestObject) => {
      const answer = await answerExample(parent, objects);
      assert.equal(answer.status, 200, answer.text);
      return (answer.body.children ?? []).find((c) => c.kind === "Pod")!;
    };
    assert.deepEqual(warmPodDifferences(await podOf(pool), await podOf(sandbox)), []);
  });
});
