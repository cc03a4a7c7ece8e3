/**
 * What a cluster operator applies — `kubectl apply -k metacontroller/` (alone, with each optional
 * component, with monitoring/, and the README's own-token layout) and the files in examples/ —
 * against the real API server, with Metacontroller's own published CRDs (shared/reference) and
 * prometheus-operator's installed, so a CompositeController, a PrometheusRule and a
 * ServiceMonitor are checked against the schemas of the releases we target.
 * The examples' Sandboxes and WarmPool also go through the in-process hooks, and every child they
 * answer with must be admitted too.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import {
  answerExample,
  controllerSpec,
  exampleObjects,
  MANIFESTS,
  REPO,
  yamlObjects,
  yamlText,
  type ManifestObject,
} from "../support/manifests.js";
import { describeStatus, type KubeObjectLike, type KubeResponse } from "./support/kube.js";
import { cluster, installCrdsFrom } from "./setup.js";

const METACONTROLLER_VERSION = "v4.17.2";
/**
 * prometheus-operator's CRDs (PrometheusRule, ServiceMonitor) for monitoring/: from its module on
 * the Go module proxy, which carries them in example/prometheus-operator-crd/. v0.85.0 is the
 * newest version of the root module the proxy serves here.
 */
const PROMETHEUS_OPERATOR = "github.com/prometheus-operator/prometheus-operator@v0.85.0";
const MONITORING = join(REPO, "monitoring");
const REFERENCE = join(REPO, "..", "shared", "reference", `metacontroller-${METACONTROLLER_VERSION}`);
const COMPONENTS = join(MANIFESTS, "components");

/** A kind whose CRD this API server does not have; its shape is checked by the unit tier. */
const NOT_INSTALLED = new Set(["cilium.io/v2/CiliumNetworkPolicy"]);

/** One way to build metacontroller/: the components on top, and files of the user's own. */
interface Build {
  name: string;
  components: string[];
  /** Files the user writes, relative to their kustomization folder (the README's layout). */
  own?: Record<string, string>;
  /** A check of the built objects beyond "the API server admits every one". */
  check?: (objects: ManifestObject[]) => void;
}

const GENERATED_TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const BUILDS: Build[] = [
  { name: "metacontroller/", components: [] },
  {
    name: "metacontroller/ + components/bearer-auth",
    components: ["bearer-auth"],
    check: (objects) => {
      for (const controller of objects.filter((o) => o.kind === "CompositeController")) {
        for (const [hook, spec] of Object.entries(controllerSpec(controller).hooks ?? {})) {
          assert.deepEqual(
            spec?.webhook?.authorization,
            { type: "Bearer", secretRef: { name: "llmsafespace-hooks-token", namespace: "llmsafespace", key: "token" } },
            `${controller.metadata.name} ${hook}`,
          );
        }
      }
      assert.ok(objects.some((o) => o.kind === "Secret" && o.metadata.name === "llmsafespace-hooks-token"));
    },
  },
  {
    name: "metacontroller/ + components/cilium",
    components: ["cilium"],
    check: (objects) => {
      const sandboxes = objects.find((o) => o.metadata.name === "sandboxes.llmsafespace.dev")!;
      const rule = controllerSpec(sandboxes).childResources?.find((c) => c.resource === "ciliumnetworkpolicies");
      assert.deepEqual(rule, { apiVersion: "cilium.io/v2", resource: "ciliumnetworkpolicies", updateStrategy: { method: "InPlace" } });
      assert.equal(deploymentEnv(objects).FQDN_PROVIDER, "cilium");
    },
  },
  { name: "metacontroller/ + both components", components: ["bearer-auth", "cilium"] },
  {
    name: "metacontroller/ + monitoring/",
    components: [MONITORING],
    check: (objects) => {
      const kinds = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
      assert.deepEqual(kinds("PrometheusRule"), ["llmsafespace-hooks"]);
      assert.deepEqual(kinds("ServiceMonitor"), ["llmsafespace-hooks"]);
      assert.ok(kinds("NetworkPolicy").includes("llmsafespace-hooks-prometheus"), kinds("NetworkPolicy").join(", "));
      const dashboard = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "llmsafespace-hooks-dashboard");
      assert.ok(dashboard !== undefined, "the dashboard's ConfigMap");
      assert.equal(dashboard.metadata.labels?.grafana_dashboard, "1");
      assert.doesNotThrow(() => JSON.parse(Object.values(dashboard.data as Record<string, string>)[0] ?? ""));
    },
  },
  {
    name: "the README's own-token layout",
    components: ["bearer-auth", "token"],
    own: {
      "token/kustomization.yaml": [
        "apiVersion: kustomize.config.k8s.io/v1alpha1",
        "kind: Component",
        "secretGenerator:",
        "  - name: llmsafespace-hooks-token",
        "    namespace: llmsafespace",
        "    behavior: replace",
        "    files:",
        "      - token",
        "    options:",
        "      disableNameSuffixHash: true",
        "",
      ].join("\n"),
      "token/token": GENERATED_TOKEN,
    },
    check: (objects) => {
      const secret = objects.find((o) => o.kind === "Secret")!;
      const data = secret.data as Record<string, string>;
      assert.deepEqual(Object.keys(data), ["token"]);
      assert.equal(Buffer.from(data.token ?? "", "base64").toString("utf8"), GENERATED_TOKEN);
      assert.equal(secret.stringData, undefined, "the placeholder must be gone");
    },
  },
];

function deploymentEnv(objects: ManifestObject[]): Record<string, string | undefined> {
  const deployment = objects.find((o) => o.kind === "Deployment")!;
  const spec = deployment.spec as { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
  return Object.fromEntries((spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
}

/** `kubectl kustomize` of a temporary kustomization that uses metacontroller/ as the README says. */
function kustomize(kubectl: string, build: Build): ManifestObject[] {
  const dir = mkdtempSync(join(tmpdir(), "llmsafespace-kustomize-"));
  try {
    // kustomize wants relative paths; `own` components live in the temporary folder itself.
    const path = (target: string) => relative(dir, target);
    // A component is one of metacontroller/components, one of the user's own, or a folder by its path.
    const components = build.components.map((name) =>
      build.own?.[`${name}/kustomization.yaml`] !== undefined ? name : path(name.startsWith("/") ? name : join(COMPONENTS, name)),
    );
    const kustomization = [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      `  - ${path(MANIFESTS)}`,
      ...(components.length > 0 ? ["components:", ...components.map((c) => `  - ${c}`)] : []),
      "",
    ].join("\n");
    writeFileSync(join(dir, "kustomization.yaml"), kustomization);
    for (const [file, text] of Object.entries(build.own ?? {})) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    const result = spawnSync(kubectl, ["kustomize", dir], { encoding: "utf8" });
    assert.equal(result.status, 0, `kubectl kustomize failed:\n${result.stderr}`);
    return yamlText(result.stdout, `kubectl kustomize (${build.name})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The folder of prometheus-operator's CRDs, from the Go module cache (downloaded once through the proxy). */
function prometheusOperatorCrds(): string {
  const result = spawnSync("go", ["mod", "download", "-json", PROMETHEUS_OPERATOR], { encoding: "utf8", cwd: tmpdir(), timeout: 240_000 });
  assert.equal(result.status, 0, `go mod download ${PROMETHEUS_OPERATOR} failed:\n${result.stdout}${result.stderr}`);
  const { Dir: dir } = JSON.parse(result.stdout) as { Dir?: string };
  assert.ok(dir !== undefined, result.stdout);
  return join(dir, "example", "prometheus-operator-crd");
}

function assertAdmitted(object: KubeObjectLike, response: KubeResponse): void {
  const name = `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`;
  assert.ok(response.status === 200 || response.status === 201, `${name}: ${describeStatus(response)}`);
  // Warnings include Pod Security "restricted" findings on a Deployment's pod template (the
  // namespaces here warn at that level) and fields the server ignores.
  assert.deepEqual(response.warnings, [], name);
}

describe("Metacontroller manifests on a real API server", function () {
  before(async function () {
    if (!existsSync(REFERENCE)) {
      console.log(`      (skipped: Metacontroller's CRDs are not at ${REFERENCE}; they come with shared/reference)`);
      this.skip();
    }
    this.timeout(300_000);
    await installCrdsFrom(cluster(), REFERENCE, (file) => file.includes("crds"));
    await installCrdsFrom(cluster(), prometheusOperatorCrds(), (file) => /_(prometheusrules|servicemonitors)\.yaml$/.test(file));
    // Namespaced objects are dry-run into namespaces that exist: ours as namespace.yaml makes it
    // (Pod Security restricted, enforce and warn), and Metacontroller's own.
    for (const namespace of [...yamlObjects(join(MANIFESTS, "namespace.yaml")), ...yamlObjects(join(REFERENCE, "metacontroller-namespace.yaml"))]) {
      const response = await cluster().client.apply(namespace);
      assert.ok(response.status === 200 || response.status === 201, describeStatus(response));
    }
  });

  it(`metacontroller › its ${METACONTROLLER_VERSION} CRDs › are installed and Established`, async () => {
    const response = await cluster().client.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/compositecontrollers.metacontroller.k8s.io");
    assert.equal(response.status, 200, describeStatus(response));
  });

  for (const build of BUILDS) {
    it(`metacontroller › kubectl kustomize ${build.name} › every object passes server-side dry run`, async () => {
      const objects = kustomize(cluster().kubectl, build);
      assert.ok(objects.some((o) => o.kind === "CompositeController"), "the build holds the CompositeControllers");
      build.check?.(objects);
      for (const object of objects) assertAdmitted(object, await cluster().client.apply(object, { dryRun: true }));
    });
  }
});

describe("examples on a real API server", () => {
  // team-a exists already (setup.ts), enforcing Pod Security restricted; RuntimeEnvironments are
  // cluster-scoped. Server-side apply, so examples/namespace.yaml is checked against it too.
  const examples = exampleObjects();
  for (const file of [...new Set(examples.map((e) => e.file))]) {
    it(`examples › ${basename(file)} › every object passes server-side dry run`, async () => {
      for (const { object } of examples.filter((e) => e.file === file)) {
        assertAdmitted(object, await cluster().client.apply(object, { dryRun: true }));
      }
    });
  }

  const objects = examples.map((e) => e.object);
  for (const { file, object } of examples.filter((e) => e.object.kind === "Sandbox" || e.object.kind === "WarmPool")) {
    it(`examples › ${basename(file)} › every child the sync hook answers passes server-side dry run`, async () => {
      const answer = await answerExample(object, objects);
      assert.equal(answer.status, 200, answer.text);
      assert.notEqual(answer.body.status?.phase, "Failed", JSON.stringify(answer.body.status));
      const children = answer.body.children ?? [];
      assert.ok(children.length > 0, "the hook answers with children");
      for (const child of children.filter((c) => !NOT_INSTALLED.has(`${c.apiVersion}/${c.kind}`))) {
        assertAdmitted(child, await cluster().client.create(child, { dryRun: true }));
      }
    });
  }
});
