/**
 * The CRDs in crds/ are the one source of the resource schemas (SPEC §2): the API server enforces
 * them, and the hook server validates webhook requests and applies defaults with the same files
 * through ajv. These checks hold the files to what both sides need.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";
import { WARM_POOL_SIZE_CAP } from "../src/warm-pool/warm-pool.js";

/** The part of an OpenAPI v3 schema, as Kubernetes restricts it, that these CRDs use. */
interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  anyOf?: Schema[];
  allOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  default?: unknown;
  pattern?: string;
  minimum?: number;
  format?: string;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
}

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  subresources?: { status?: Record<string, never> };
  additionalPrinterColumns?: PrinterColumn[];
  schema: { openAPIV3Schema: Schema };
}

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: {
      plural: string;
      singular: string;
      kind: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: CrdVersion[];
  };
}

interface Expected {
  file: string;
  plural: string;
  singular: string;
  kind: string;
  shortName: string;
  scope: "Namespaced" | "Cluster";
  /** Parents of a CompositeController: Metacontroller writes their whole status. */
  parent: boolean;
  /** Fields the status schema declares; undefined when the kind has no status. */
  status?: string[];
  columns: string[];
}

const EXPECTED: Expected[] = [
  {
    file: "sandbox.yaml",
    plural: "sandboxes",
    singular: "sandbox",
    kind: "Sandbox",
    shortName: "sb",
    scope: "Namespaced",
    parent: true,
    status: [
      "observedGeneration",
      "phase",
      "conditions",
      "podName",
      "podNamespace",
      "endpoint",
      "startTime",
      "warmPodRef",
    ],
    columns: ["Runtime", "Security", "Phase", "Warm", "Endpoint", "Age"],
  },
  {
    file: "warmpool.yaml",
    plural: "warmpools",
    singular: "warmpool",
    kind: "WarmPool",
    shortName: "wp",
    scope: "Namespaced",
    parent: true,
    status: [
      "observedGeneration",
      "availablePods",
      "assignedPods",
      "pendingPods",
      "lastScaleTime",
      "conditions",
    ],
    columns: ["Runtime", "Security", "Available", "Assigned", "Pending", "Age"],
  },
  {
    file: "runtimeenvironment.yaml",
    plural: "runtimeenvironments",
    singular: "runtimeenvironment",
    kind: "RuntimeEnvironment",
    shortName: "rte",
    scope: "Cluster",
    parent: false,
    status: ["available", "lastValidated"],
    columns: ["Language", "Version", "Image", "Age"],
  },
  {
    file: "sandboxprofile.yaml",
    plural: "sandboxprofiles",
    singular: "sandboxprofile",
    kind: "SandboxProfile",
    shortName: "sbp",
    scope: "Namespaced",
    parent: false,
    columns: ["Language", "Security", "Age"],
  },
];

/** Keywords that Kubernetes accepts in a structural schema and that ajv can also evaluate. */
const ALLOWED_KEYWORDS = new Set([
  "type",
  "properties",
  "required",
  "items",
  "enum",
  "default",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "format",
  "description",
  "nullable",
  "additionalProperties",
  "anyOf",
  "allOf",
  "oneOf",
  "not",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-preserve-unknown-fields",
]);
const ALLOWED_FORMATS = new Set(["date-time", "int32", "int64"]);
const K8S_KEYWORDS = [
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-preserve-unknown-fields",
];
/** The one anyOf a structural schema allows to carry types: the int-or-string pair. */
const INT_OR_STRING: Schema[] = [{ type: "integer" }, { type: "string" }];

const QUANTITIES_ACCEPTED = ["1", "500m", "1.5", "512Mi", "1G", "1e3", "0.5", ".5", "5Gi", "10"];
// Zero is refused too: a zero limit is no limit at all to the kubelet.
const QUANTITIES_REJECTED = ["-1", "1.5.5", "abc", "5 Gi", "+1", "", "1Gb", "0", "0.0", "0Gi", "00m"];

function load(file: string): Crd {
  const doc: unknown = parse(readFileSync(new URL(`../crds/${file}`, import.meta.url), "utf8"));
  return doc as Crd;
}

function onlyVersion(crd: Crd): CrdVersion {
  assert.equal(crd.spec.versions.length, 1, "one version, v1");
  return crd.spec.versions[0]!;
}

function schemaOf(file: string): Schema {
  return onlyVersion(load(file)).schema.openAPIV3Schema;
}

interface Node {
  path: string;
  node: Schema;
}

/** The structural tree: every schema reached through properties, items and additionalProperties. */
function* walk(node: Schema, path = "$"): Generator<Node> {
  yield { path, node };
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    yield* walk(child, `${path}.${name}`);
  }
  if (node.items) yield* walk(node.items, `${path}[*]`);
  if (typeof node.additionalProperties === "object") {
    yield* walk(node.additionalProperties, `${path}.*`);
  }
}

/** The value-validation branches hanging off one node (anyOf, allOf, oneOf, not), with their paths. */
function junctors({ path, node }: Node): Node[] {
  const branches = (keyword: string, list: Schema[] = []): Node[] =>
    list.map((branch, i) => ({ path: `${path}.${keyword}[${i}]`, node: branch }));
  return [
    ...branches("anyOf", node.anyOf),
    ...branches("allOf", node.allOf),
    ...branches("oneOf", node.oneOf),
    ...(node.not ? [{ path: `${path}.not`, node: node.not }] : []),
  ];
}

/** Every schema object in the tree, junctor branches included. */
function* everyNode(node: Schema, path = "$"): Generator<Node> {
  for (const visited of walk(node, path)) {
    yield visited;
    for (const branch of junctors(visited)) yield* everyNode(branch.node, branch.path);
  }
}

function isQuantity(node: Schema): boolean {
  return node["x-kubernetes-int-or-string"] === true;
}

/** The schema a printer column's simple JSONPath points at, or undefined if none is declared. */
function resolve(root: Schema, jsonPath: string): Schema | undefined {
  let node: Schema | undefined = root;
  for (const segment of jsonPath.split(".").slice(1)) {
    // ObjectMeta is implicit: the root metadata schema is only `type: object`.
    if (node === root.properties?.["metadata"]) return node;
    node = node?.properties?.[segment];
  }
  return node;
}

function at(root: Schema, path: string): Schema {
  const node = resolve(root, path);
  assert.ok(node, `${path} is declared`);
  return node;
}

for (const expected of EXPECTED) {
  describe(`crds/${expected.file}`, () => {
    describe("when parsed", () => {
      it("is an apiextensions.k8s.io/v1 CRD of llmsafespace.dev with v1 served and stored", () => {
        const crd = load(expected.file);
        assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
        assert.equal(crd.kind, "CustomResourceDefinition");
        assert.equal(crd.metadata.name, `${expected.plural}.llmsafespace.dev`);
        assert.equal(crd.spec.group, "llmsafespace.dev");
        const version = onlyVersion(crd);
        assert.equal(version.name, "v1");
        assert.equal(version.served, true);
        assert.equal(version.storage, true);
      });

      it(`is ${expected.scope} with short name ${expected.shortName} and category llmsafespace`, () => {
        const crd = load(expected.file);
        assert.equal(crd.spec.scope, expected.scope);
        assert.equal(crd.spec.names.plural, expected.plural);
        assert.equal(crd.spec.names.singular, expected.singular);
        assert.equal(crd.spec.names.kind, expected.kind);
        assert.ok(crd.spec.names.shortNames?.includes(expected.shortName), "short name");
        assert.deepEqual(crd.spec.names.categories, ["llmsafespace"]);
      });
    });

    describe("schema documentation", () => {
      it("gives every field a non-empty description, for kubectl explain", () => {
        const missing = [...walk(schemaOf(expected.file))]
          // The API server rejects anything but `type` on the root metadata (ObjectMeta documents itself).
          .filter(({ path }) => path !== "$.metadata")
          .filter(({ node }) => node.type !== undefined || node.properties !== undefined || isQuantity(node))
          .filter(({ node }) => (node.description ?? "").trim() === "")
          .map(({ path }) => path);
        assert.deepEqual(missing, [], `fields without a description: ${missing.join(", ")}`);
      });
    });

    describe("structural schema", () => {
      it("gives every field a type, every properties node type object and every array its items", () => {
        const broken = [...walk(schemaOf(expected.file))].flatMap(({ path, node }) => [
          ...(node.type === undefined && !isQuantity(node) ? [`${path} has no type`] : []),
          ...(node.properties !== undefined && node.type !== "object" ? [`${path} has properties but is no object`] : []),
          ...(node.type === "array" && node.items === undefined ? [`${path} is an array without items`] : []),
        ]);
        assert.deepEqual(broken, []);
      });

      it("keeps type, description and default out of junctor branches, but for the int-or-string pair", () => {
        const broken: string[] = [];
        for (const visited of walk(schemaOf(expected.file))) {
          const intOrString = isQuantity(visited.node) && isDeepStrictEqual(visited.node.anyOf, INT_OR_STRING);
          const branches = junctors(visited).filter(
            ({ path }) => !(intOrString && path.startsWith(`${visited.path}.anyOf[`)),
          );
          for (const branch of branches) {
            for (const { path, node } of everyNode(branch.node, branch.path)) {
              const forbidden = (["type", "description", "default"] as const).filter((key) => node[key] !== undefined);
              if (forbidden.length > 0) broken.push(`${path}: ${forbidden.join(", ")}`);
            }
          }
        }
        assert.deepEqual(broken, []);
      });

      it("uses only keywords that both Kubernetes and ajv evaluate", () => {
        const foreign = [...everyNode(schemaOf(expected.file))].flatMap(({ path, node }) => [
          ...Object.keys(node)
            .filter((key) => !ALLOWED_KEYWORDS.has(key))
            .map((key) => `${path}: ${key}`),
          ...(node.format !== undefined && !ALLOWED_FORMATS.has(node.format) ? [`${path}: format ${node.format}`] : []),
        ]);
        assert.deepEqual(foreign, []);
      });

      it("requires no field inside an object that defaults to {}", () => {
        // The API server applies `{}` first; a required child would make the object mandatory.
        const contradictions = [...walk(schemaOf(expected.file))]
          .filter(({ node }) => isDeepStrictEqual(node.default, {}) && (node.required ?? []).length > 0)
          .map(({ path }) => path);
        assert.deepEqual(contradictions, []);
      });
    });

    describe("status", () => {
      const { status } = expected;
      if (status === undefined) {
        it("has neither a status subresource nor a status schema", () => {
          const version = onlyVersion(load(expected.file));
          assert.equal(version.subresources?.status, undefined);
          assert.equal(version.schema.openAPIV3Schema.properties?.["status"], undefined);
        });
        return;
      }

      it(`has the status subresource and declares ${status.join(", ")}`, () => {
        const version = onlyVersion(load(expected.file));
        assert.deepEqual(version.subresources?.status, {});
        const declared = Object.keys(at(version.schema.openAPIV3Schema, ".status").properties ?? {});
        assert.deepEqual(status.filter((name) => !declared.includes(name)), [], "undeclared status fields");
      });

      if (expected.parent) {
        it("declares observedGeneration as an int64, which Metacontroller adds to every status", () => {
          const node = at(schemaOf(expected.file), ".status.observedGeneration");
          assert.equal(node.type, "integer");
          assert.equal(node.format, "int64");
        });

        it("declares conditions as a map list keyed by type, each with type and status", () => {
          const conditions = at(schemaOf(expected.file), ".status.conditions");
          assert.equal(conditions["x-kubernetes-list-type"], "map");
          assert.deepEqual(conditions["x-kubernetes-list-map-keys"], ["type"]);
          assert.deepEqual(conditions.items?.required, ["type", "status"]);
          assert.equal(conditions.items.properties?.["lastTransitionTime"]?.format, "date-time");
        });
      }
    });

    describe("printer columns", () => {
      it(`lists ${expected.columns.join(", ")}`, () => {
        const columns = onlyVersion(load(expected.file)).additionalPrinterColumns ?? [];
        assert.deepEqual(columns.map((column) => column.name), expected.columns);
      });

      it("points every jsonPath at a field the schema declares, of the column's type", () => {
        const version = onlyVersion(load(expected.file));
        const root = version.schema.openAPIV3Schema;
        const mismatched = (version.additionalPrinterColumns ?? []).flatMap((column) => {
          const node = resolve(root, column.jsonPath);
          if (node === undefined) return [`${column.name}: ${column.jsonPath} is not declared`];
          if (node === root.properties?.["metadata"]) return [];
          const type = node.format === "date-time" ? "date" : node.type;
          return type === column.type ? [] : [`${column.name}: ${column.type} column on a ${String(type)} field`];
        });
        assert.deepEqual(mismatched, []);
      });
    });
  });
}

describe("crds/* quantity fields", () => {
  function quantities(): Node[] {
    return EXPECTED.flatMap(({ file }) =>
      [...walk(schemaOf(file))]
        .filter(({ node }) => isQuantity(node))
        .map(({ path, node }) => ({ path: `${file} ${path}`, node })),
    );
  }

  describe("schema", () => {
    it("marks every resource quantity of SPEC §2 as int-or-string", () => {
      assert.deepEqual(quantities().map(({ path }) => path), [
        "sandbox.yaml $.spec.resources.cpu",
        "sandbox.yaml $.spec.resources.memory",
        "sandbox.yaml $.spec.resources.ephemeralStorage",
        "sandbox.yaml $.spec.storage.volumeSize",
        "warmpool.yaml $.spec.resources.cpu",
        "warmpool.yaml $.spec.resources.memory",
        "warmpool.yaml $.spec.resources.ephemeralStorage",
        "runtimeenvironment.yaml $.spec.resourceRequirements.minCpu",
        "runtimeenvironment.yaml $.spec.resourceRequirements.minMemory",
        "runtimeenvironment.yaml $.spec.resourceRequirements.recommendedCpu",
        "runtimeenvironment.yaml $.spec.resourceRequirements.recommendedMemory",
        "sandboxprofile.yaml $.spec.resourceDefaults.cpu",
        "sandboxprofile.yaml $.spec.resourceDefaults.memory",
        "sandboxprofile.yaml $.spec.resourceDefaults.ephemeralStorage",
      ]);
    });

    it("uses the exact int-or-string anyOf a structural schema allows, with minimum 1 and a pattern", () => {
      // Any other keyword inside the anyOf (even `minimum`) makes the API server reject the CRD.
      const broken = quantities()
        .filter(({ node }) => {
          const wellFormed = isDeepStrictEqual(node.anyOf, INT_OR_STRING) && node.minimum === 1 && node.pattern !== undefined;
          return !wellFormed;
        })
        .map(({ path }) => path);
      assert.deepEqual(broken, []);
    });
  });

  describe("pattern", () => {
    for (const quantity of QUANTITIES_ACCEPTED) {
      it(`accepts ${JSON.stringify(quantity)}`, () => {
        const refusing = quantities()
          .filter(({ node }) => !new RegExp(node.pattern ?? "").test(quantity))
          .map(({ path }) => path);
        assert.deepEqual(refusing, []);
      });
    }

    for (const quantity of QUANTITIES_REJECTED) {
      it(`rejects ${JSON.stringify(quantity)}`, () => {
        const accepting = quantities()
          .filter(({ node }) => new RegExp(node.pattern ?? "").test(quantity))
          .map(({ path }) => path);
        assert.deepEqual(accepting, []);
      });
    }
  });
});

describe("crds/* defaults", () => {
  const defaults: Record<string, [path: string, value: unknown][]> = {
    "sandbox.yaml": [
      [".spec.securityLevel", "standard"],
      [".spec.timeout", 300],
      [".spec.resources.cpuPinning", false],
      [".spec.networkAccess.ingress", false],
      [".spec.filesystem.readOnlyRoot", true],
      [".spec.filesystem.writablePaths", ["/tmp", "/workspace"]],
      [".spec.storage.persistent", false],
      [".spec.storage.volumeSize", "5Gi"],
      [".spec.securityContext.runAsUser", 1000],
      [".spec.securityContext.runAsGroup", 1000],
    ],
    "warmpool.yaml": [
      [".spec.securityLevel", "standard"],
      [".spec.maxSize", 0],
      [".spec.ttl", 3600],
      [".spec.autoScaling.enabled", false],
      [".spec.autoScaling.targetUtilization", 80],
      [".spec.autoScaling.scaleDownDelay", 300],
      [".spec.recycle.enabled", false],
      [".spec.recycle.maxPodAge", 86400],
      [".spec.recycle.maxRecycleCount", 3],
      [".spec.recycle.minRuntimeBeforeRecycle", 0],
    ],
  };
  // These fall back in code (profile, then RuntimeEnvironment) or mean something by being present.
  const undefaulted: Record<string, string[]> = {
    "sandbox.yaml": [
      ".spec.resources.cpu",
      ".spec.resources.memory",
      ".spec.resources.ephemeralStorage",
      ".spec.storage",
      ".spec.profileRef",
      ".spec.securityContext.seccompProfile",
    ],
    "warmpool.yaml": [".spec.resources", ".spec.profileRef"],
    "sandboxprofile.yaml": [".spec.securityLevel"],
  };

  for (const { file } of EXPECTED) {
    describe(file, () => {
      for (const [path, value] of defaults[file] ?? []) {
        it(`defaults ${path} to ${JSON.stringify(value)}`, () => {
          assert.deepEqual(at(schemaOf(file), path).default, value);
        });
      }
      for (const path of undefaulted[file] ?? []) {
        it(`leaves ${path} without a default`, () => {
          assert.equal(at(schemaOf(file), path).default, undefined);
        });
      }
    });
  }
});

describe("crds/warmpool.yaml size cap", () => {
  it("crds › WarmPool minSize and maxSize › capped at the hooks' WARM_POOL_SIZE_CAP", () => {
    const spec = (schemaOf("warmpool.yaml") as { properties: { spec: { properties: Record<string, { maximum?: number }> } } }).properties.spec.properties;
    assert.equal(spec.minSize?.maximum, WARM_POOL_SIZE_CAP);
    assert.equal(spec.maxSize?.maximum, WARM_POOL_SIZE_CAP);
  });
});

describe("crds/* under ajv, as the hook server applies them", () => {
  const compiled = new Map<string, ValidateFunction>();

  /**
   * strictTypes is off because a quantity carries `pattern` and `minimum` without a `type`: a
   * structural schema allows no type beside the int-or-string anyOf. strictRequired stays off (the
   * default) because the "domain or cidr" anyOf branches name properties declared one level up.
   */
  function validator(file: string): ValidateFunction {
    const cached = compiled.get(file);
    if (cached) return cached;
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strictTypes: false });
    for (const keyword of K8S_KEYWORDS) ajv.addKeyword(keyword);
    ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i);
    const validate = ajv.compile(schemaOf(file));
    compiled.set(file, validate);
    return validate;
  }

  function sandbox(spec: Record<string, unknown>): Record<string, unknown> {
    return { apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", metadata: { name: "s", namespace: "n" }, spec };
  }

  describe("a minimal Sandbox", () => {
    it("gets every nested default filled in", () => {
      const object = sandbox({ runtime: "python:3.10", storage: {} });
      assert.ok(validator("sandbox.yaml")(object));
      assert.deepEqual(object["spec"], {
        runtime: "python:3.10",
        securityLevel: "standard",
        timeout: 300,
        resources: { cpuPinning: false },
        networkAccess: { ingress: false },
        filesystem: { readOnlyRoot: true, writablePaths: ["/tmp", "/workspace"] },
        storage: { persistent: false, volumeSize: "5Gi" },
        securityContext: { runAsUser: 1000, runAsGroup: 1000 },
      });
    });
  });

  describe("a minimal WarmPool", () => {
    it("gets every nested default filled in", () => {
      const object = {
        apiVersion: "llmsafespace.dev/v1",
        kind: "WarmPool",
        metadata: { name: "p", namespace: "n" },
        spec: { runtime: "python:3.10", minSize: 1 },
      };
      assert.ok(validator("warmpool.yaml")(object));
      assert.deepEqual(object.spec, {
        runtime: "python:3.10",
        minSize: 1,
        securityLevel: "standard",
        maxSize: 0,
        ttl: 3600,
        autoScaling: { enabled: false, targetUtilization: 80, scaleDownDelay: 300 },
        recycle: { enabled: false, maxPodAge: 86400, maxRecycleCount: 3, minRuntimeBeforeRecycle: 0 },
      });
    });
  });

  describe("a full Sandbox", () => {
    it("is valid", () => {
      const validate = validator("sandbox.yaml");
      const object = sandbox({
        runtime: "python:3.10",
        securityLevel: "custom",
        timeout: 86400,
        resources: { cpu: 2, memory: "512Mi", ephemeralStorage: "1Gi", cpuPinning: true },
        networkAccess: {
          egress: [
            { domain: "*.pypi.org", ports: [{ port: 443 }] },
            { cidr: "10.0.0.0/8", ports: [{ port: 53, protocol: "UDP" }] },
            { cidr: "2001:db8::/32" },
          ],
          ingress: true,
        },
        filesystem: { readOnlyRoot: false, writablePaths: ["/workspace", "/home/sandbox/.cache"] },
        storage: { persistent: true, volumeSize: 10737418240, storageClass: "fast" },
        securityContext: {
          runAsUser: 2000,
          runAsGroup: 2000,
          seccompProfile: { type: "Localhost", localhostProfile: "profiles/python.json" },
        },
        profileRef: { name: "python-default", namespace: "llmsafespace" },
      });
      assert.ok(validate(object), JSON.stringify(validate.errors));
    });
  });

  describe("an invalid Sandbox", () => {
    const runtime = "python:3.10";
    const egress = (rule: Record<string, unknown>) => ({ runtime, networkAccess: { egress: [rule] } });
    const invalid: [scenario: string, spec: Record<string, unknown>][] = [
      ["without runtime", {}],
      ["with an unknown securityLevel", { runtime, securityLevel: "low" }],
      ["with timeout 0", { runtime, timeout: 0 }],
      ["with a negative integer cpu", { runtime, resources: { cpu: -1 } }],
      ["with a negative string memory", { runtime, resources: { memory: "-1Gi" } }],
      ["with a fractional number cpu", { runtime, resources: { cpu: 1.5 } }],
      ["with an egress rule naming neither domain nor cidr", egress({ ports: [{ port: 443 }] })],
      ["with an egress cidr lacking its mask", egress({ cidr: "10.0.0.1" })],
      ["with an egress domain holding a scheme", egress({ domain: "https://example.com" })],
      ["with port 0", egress({ domain: "example.com", ports: [{ port: 0 }] })],
      ["running as root", { runtime, securityContext: { runAsUser: 0 } }],
      ["with a Localhost seccomp profile but no path", { runtime, securityContext: { seccompProfile: { type: "Localhost" } } }],
      ["with a relative writable path", { runtime, filesystem: { writablePaths: ["tmp"] } }],
      ["with a writable path that climbs out", { runtime, filesystem: { writablePaths: ["/tmp/../etc"] } }],
      ["with a profileRef without name", { runtime, profileRef: { namespace: "n" } }],
    ];
    for (const [scenario, spec] of invalid) {
      it(`is rejected ${scenario}`, () => {
        assert.equal(validator("sandbox.yaml")(sandbox(spec)), false);
      });
    }
  });
});
