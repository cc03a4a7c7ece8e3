/**
 * Validates the objects the hooks return against the Kubernetes API schema, so that a child the
 * API server would refuse — or silently alter — fails a unit test instead of a reconcile loop.
 *
 * Four layers, because no single available tool covers what the API server checks:
 *
 * 1. **OpenAPI schema** — the generated validators of `kubernetes-models` 4.x (ajv, compiled from
 *    the Kubernetes OpenAPI spec). Verified behaviour of `new Model(data).validate()`: it throws a
 *    `ValidationError` whose `errors` are ajv error objects with a JSON-pointer `instancePath`. It
 *    does catch wrong types (`containerPort: "x"`, `policyTypes: "Ingress"`, a label value that
 *    is a number), missing required fields (container `name`, NetworkPolicy `spec.podSelector`),
 *    enum values (`restartPolicy`, `imagePullPolicy`, Service `type`, `protocol`, `policyTypes`),
 *    int32 overflow, `date-time` timestamps and Kubernetes quantities, and it accepts plain JSON
 *    (timestamps as strings, `creationTimestamp: null`, int-or-string ports, numeric quantities).
 *    It does **not** reject unknown fields (no schema sets `additionalProperties: false`), does
 *    not check value ranges (a Service port of 70000 passes), names, label syntax or CIDRs, and
 *    treats `null` as "unset" for every optional field. Its enums are those of the (older)
 *    Kubernetes spec it was generated from, so an enum value added since would be refused.
 * 2. **Unknown fields** — checked against the field lists of the `@kubernetes/client-node` models
 *    (generated from the same OpenAPI spec, Kubernetes 1.34). The API server drops unknown fields
 *    (with at most a warning unless the client asks for strict validation), so a misspelt
 *    `readOnlyRootFilesystem` would vanish without a trace.
 * 3. **API-server validation the schema cannot express**, only where the rule is certain and
 *    commonly broken by generated objects: object and container names, label and annotation key
 *    syntax, port ranges and port names, a namespace on a cluster-scoped object, and a Deployment
 *    selector that does not match its template.
 * 4. **`cilium.io/v2` CiliumNetworkPolicy** — a hand-written structural check, see
 *    {@link validateCiliumNetworkPolicy}.
 */
import { isIP } from "node:net";
import * as clientNode from "@kubernetes/client-node";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { LimitRange } from "kubernetes-models/v1/LimitRange";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Pod } from "kubernetes-models/v1/Pod";
import { ResourceQuota } from "kubernetes-models/v1/ResourceQuota";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";

type Json = Readonly<Record<string, unknown>>;
type Path = readonly (string | number)[];

/** What every `kubernetes-models` class provides; `validate()` throws on invalid data. */
interface Validatable {
  validate(): void;
}

/** The rule the API server applies to `metadata.name` for a kind. */
type NameRule = "dns1123Subdomain" | "dns1123Label" | "dns1035Label" | "pathSegment";

interface KindSchema {
  readonly model: new () => Validatable;
  /** The `@kubernetes/client-node` model whose field list is the source of known fields. */
  readonly clientModel: string;
  readonly name: NameRule;
  readonly clusterScoped?: boolean;
  /** Where the kind keeps a pod spec whose containers get the container checks. */
  readonly podSpecAt?: Path;
}

const SCHEMAS: ReadonlyMap<string, KindSchema> = new Map<string, KindSchema>([
  ["v1/Pod", { model: Pod, clientModel: "V1Pod", name: "dns1123Subdomain", podSpecAt: ["spec"] }],
  ["v1/Service", { model: Service, clientModel: "V1Service", name: "dns1035Label" }],
  ["v1/ServiceAccount", { model: ServiceAccount, clientModel: "V1ServiceAccount", name: "dns1123Subdomain" }],
  [
    "v1/PersistentVolumeClaim",
    { model: PersistentVolumeClaim, clientModel: "V1PersistentVolumeClaim", name: "dns1123Subdomain" },
  ],
  ["v1/ConfigMap", { model: ConfigMap, clientModel: "V1ConfigMap", name: "dns1123Subdomain" }],
  ["v1/Secret", { model: Secret, clientModel: "V1Secret", name: "dns1123Subdomain" }],
  ["v1/Namespace", { model: Namespace, clientModel: "V1Namespace", name: "dns1123Label", clusterScoped: true }],
  ["v1/ResourceQuota", { model: ResourceQuota, clientModel: "V1ResourceQuota", name: "dns1123Subdomain" }],
  ["v1/LimitRange", { model: LimitRange, clientModel: "V1LimitRange", name: "dns1123Subdomain" }],
  [
    "networking.k8s.io/v1/NetworkPolicy",
    { model: NetworkPolicy, clientModel: "V1NetworkPolicy", name: "dns1123Subdomain" },
  ],
  [
    "apps/v1/Deployment",
    { model: Deployment, clientModel: "V1Deployment", name: "dns1123Subdomain", podSpecAt: ["spec", "template", "spec"] },
  ],
  [
    "policy/v1/PodDisruptionBudget",
    { model: PodDisruptionBudget, clientModel: "V1PodDisruptionBudget", name: "dns1123Subdomain" },
  ],
  ["rbac.authorization.k8s.io/v1/Role", { model: Role, clientModel: "V1Role", name: "pathSegment" }],
  ["rbac.authorization.k8s.io/v1/RoleBinding", { model: RoleBinding, clientModel: "V1RoleBinding", name: "pathSegment" }],
  [
    "rbac.authorization.k8s.io/v1/ClusterRole",
    { model: ClusterRole, clientModel: "V1ClusterRole", name: "pathSegment", clusterScoped: true },
  ],
  [
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
    { model: ClusterRoleBinding, clientModel: "V1ClusterRoleBinding", name: "pathSegment", clusterScoped: true },
  ],
]);

/** The kinds {@link validateKubernetesObject} knows, as `apiVersion/kind`. */
export const KNOWN_KINDS: readonly string[] = Object.freeze([...SCHEMAS.keys(), "cilium.io/v2/CiliumNetworkPolicy"]);

/**
 * Validates one Kubernetes object as the API server would on create, picking the schema by
 * `apiVersion` and `kind`. Returns readable errors, each starting with the field path
 * (`spec.containers[0].ports[0].containerPort: must be an integer, got string "x"`); empty when
 * valid. An apiVersion/kind without a schema yields a single "no schema is known" error.
 *
 * The object is validated as it would travel: through `JSON.stringify`, so `Date` values become
 * strings and `undefined` fields disappear, exactly as the webhook response would carry them.
 */
export function validateKubernetesObject(obj: unknown): string[] {
  let wire: unknown;
  try {
    const text = JSON.stringify(obj) as string | undefined;
    if (text === undefined) return ["(root): must be a JSON object, got undefined"];
    wire = JSON.parse(text);
  } catch (error) {
    return [`(root): cannot be serialised as JSON: ${error instanceof Error ? error.message : String(error)}`];
  }
  if (!isObject(wire)) return [`(root): must be a JSON object, got ${describe(wire)}`];

  const { apiVersion, kind } = wire;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return [
      ...(typeof apiVersion === "string" ? [] : [`apiVersion: must be a string, got ${describe(apiVersion)}`]),
      ...(typeof kind === "string" ? [] : [`kind: must be a string, got ${describe(kind)}`]),
    ];
  }
  if (apiVersion === "cilium.io/v2" && kind === "CiliumNetworkPolicy") return validateCiliumNetworkPolicy(wire);

  const schema = SCHEMAS.get(`${apiVersion}/${kind}`);
  if (!schema) {
    return [`(root): no schema is known for apiVersion ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)}`];
  }
  return unique([
    ...schemaErrors(schema, wire),
    ...unknownFieldErrors(schema.clientModel, wire, []),
    ...apiServerErrors(schema, wire),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Layer 1: the OpenAPI schema, through kubernetes-models.

/** The parts of an ajv error object this file reads. */
interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Json;
  readonly message: string | undefined;
}

function schemaErrors(schema: KindSchema, wire: Json): string[] {
  // Constructed empty and filled afterwards so that no cast to each model's own data type is
  // needed; validate() checks the instance's own enumerable properties either way.
  const instance = new schema.model();
  Object.assign(instance, wire);
  try {
    instance.validate();
    return [];
  } catch (error) {
    const errors = ajvErrorsOf(error);
    if (!errors) throw error;
    return formatSchemaErrors(errors, wire);
  }
}

function ajvErrorsOf(error: unknown): SchemaError[] | undefined {
  if (!(error instanceof Error) || !("errors" in error) || !Array.isArray(error.errors)) return undefined;
  const found: SchemaError[] = [];
  for (const item of error.errors as unknown[]) {
    if (!isObject(item) || typeof item.instancePath !== "string" || typeof item.keyword !== "string") continue;
    found.push({
      instancePath: item.instancePath,
      keyword: item.keyword,
      params: isObject(item.params) ? item.params : {},
      message: typeof item.message === "string" ? item.message : undefined,
    });
  }
  return found;
}

function formatSchemaErrors(errors: readonly SchemaError[], wire: Json): string[] {
  const byPath = new Map<string, SchemaError[]>();
  for (const error of errors) {
    const group = byPath.get(error.instancePath) ?? [];
    group.push(error);
    byPath.set(error.instancePath, group);
  }
  const out: string[] = [];
  for (const [pointer, group] of byPath) {
    const path = fromPointer(pointer);
    const value = valueAt(wire, path);
    // int-or-string and quantity fields are oneOf schemas: ajv reports every failed branch and then
    // the oneOf itself. One line naming the accepted shapes reads better than three.
    if (group.some((e) => e.keyword === "oneOf")) {
      const branches = group.filter((e) => e.keyword !== "oneOf").map(expectation);
      out.push(`${formatPath(path)}: must be ${branches.join(" or ")}, got ${describe(value)}`);
      continue;
    }
    for (const error of group) out.push(formatSchemaError(error, path, value));
  }
  return out;
}

function formatSchemaError(error: SchemaError, path: Path, value: unknown): string {
  switch (error.keyword) {
    case "required":
      return `${formatPath([...path, String(error.params.missingProperty)])}: required field is missing`;
    case "type":
    case "format":
      return `${formatPath(path)}: must be ${expectation(error)}, got ${describe(value)}`;
    case "enum": {
      const allowed = Array.isArray(error.params.allowedValues) ? error.params.allowedValues : [];
      return `${formatPath(path)}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(value)}`;
    }
    default:
      return `${formatPath(path)}: ${error.message ?? `fails the "${error.keyword}" rule`}`;
  }
}

function expectation(error: SchemaError): string {
  if (error.keyword === "type") return withArticle(String(error.params.type));
  if (error.keyword === "format") return `a string in ${JSON.stringify(error.params.format)} format`;
  return error.message ?? error.keyword;
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

// ---------------------------------------------------------------------------------------------
// Layer 2: unknown fields, from the client-node models' field lists.

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

const attributeCache = new Map<string, readonly Attribute[] | undefined>();

/** The JSON fields of a client-node model, or undefined for primitives and opaque types. */
function attributesOf(modelName: string): readonly Attribute[] | undefined {
  if (attributeCache.has(modelName)) return attributeCache.get(modelName);
  const model = (clientNode as Readonly<Record<string, unknown>>)[modelName];
  let attributes: Attribute[] | undefined;
  if (typeof model === "function" && "attributeTypeMap" in model && Array.isArray(model.attributeTypeMap)) {
    attributes = (model.attributeTypeMap as unknown[]).flatMap((entry) =>
      isObject(entry) && typeof entry.baseName === "string" && typeof entry.type === "string"
        ? [{ baseName: entry.baseName, type: entry.type }]
        : [],
    );
  }
  attributeCache.set(modelName, attributes);
  return attributes;
}

function unknownFieldErrors(typeName: string, value: unknown, path: Path): string[] {
  const arrayOf = /^Array<(.+)>$/.exec(typeName)?.[1];
  if (arrayOf !== undefined) {
    return Array.isArray(value) ? value.flatMap((item, index) => unknownFieldErrors(arrayOf, item, [...path, index])) : [];
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(typeName)?.[1];
  if (mapOf !== undefined) {
    return isObject(value) ? Object.entries(value).flatMap(([key, item]) => unknownFieldErrors(mapOf, item, [...path, key])) : [];
  }
  const attributes = attributesOf(typeName);
  // A wrong type here is the schema layer's to report.
  if (!attributes || !isObject(value)) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const attribute = attributes.find((a) => a.baseName === key);
    return attribute
      ? unknownFieldErrors(attribute.type, item, [...path, key])
      : [`${formatPath([...path, key])}: unknown field; the API server would drop it`];
  });
}

// ---------------------------------------------------------------------------------------------
// Layer 3: API-server validation rules that are not in the OpenAPI schema.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function nameProblem(rule: NameRule, name: string): string | undefined {
  switch (rule) {
    case "dns1123Label":
      return name.length <= 63 && DNS1123_LABEL.test(name)
        ? undefined
        : "must be an RFC 1123 label: at most 63 lowercase alphanumerics or '-', starting and ending alphanumeric";
    case "dns1035Label":
      return name.length <= 63 && DNS1035_LABEL.test(name)
        ? undefined
        : "must be an RFC 1035 label: at most 63 lowercase alphanumerics or '-', starting with a letter and ending alphanumeric";
    case "dns1123Subdomain":
      return name.length <= 253 && DNS1123_SUBDOMAIN.test(name)
        ? undefined
        : "must be an RFC 1123 subdomain: lowercase alphanumerics, '-' or '.', starting and ending alphanumeric, at most 253 characters";
    case "pathSegment":
      return name === "." || name === ".." || /[/%]/.test(name) ? "must not be '.' or '..' or contain '/' or '%'" : undefined;
  }
}

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a 63-character name. */
function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return "key prefix must be an RFC 1123 subdomain";
  }
  if (name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return "key name must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric";
  }
  return undefined;
}

/** IANA_SVC_NAME: what a named port must look like. */
function portNameProblem(name: string): string | undefined {
  const valid =
    name.length >= 1 &&
    name.length <= 15 &&
    /^[-a-z0-9]+$/.test(name) &&
    /[a-z]/.test(name) &&
    !name.includes("--") &&
    !name.startsWith("-") &&
    !name.endsWith("-");
  return valid
    ? undefined
    : "must be an IANA service name: at most 15 lowercase alphanumerics or '-', with a letter, no '--', not starting or ending with '-'";
}

function isPortNumber(value: unknown, min = 1): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= 65535;
}

function apiServerErrors(schema: KindSchema, wire: Json): string[] {
  const out = metadataErrors(wire.metadata, ["metadata"], schema.name, schema.clusterScoped ?? false);
  if (schema.podSpecAt) out.push(...podSpecErrors(valueAt(wire, schema.podSpecAt), schema.podSpecAt));
  const spec = wire.spec;
  if (!isObject(spec)) return out;
  switch (wire.kind) {
    case "Service":
      out.push(...servicePortErrors(spec));
      break;
    case "NetworkPolicy":
      out.push(...networkPolicyPortErrors(spec));
      break;
    case "Deployment":
      out.push(...templateLabelErrors(spec));
      break;
  }
  return out;
}

function metadataErrors(metadata: unknown, path: Path, rule: NameRule, clusterScoped: boolean): string[] {
  if (!isObject(metadata)) return [`${formatPath([...path, "name"])}: required field is missing`];
  const out: string[] = [];
  const { name, generateName, namespace } = metadata;
  if (typeof name === "string" && name !== "") {
    const problem = nameProblem(rule, name);
    if (problem) out.push(`${formatPath([...path, "name"])}: ${JSON.stringify(name)} ${problem}`);
  } else if (typeof generateName !== "string" || generateName === "") {
    out.push(`${formatPath([...path, "name"])}: required field is missing (or set generateName)`);
  }
  if (typeof namespace === "string" && namespace !== "") {
    const problem = clusterScoped
      ? "must not be set on a cluster-scoped object"
      : nameProblem("dns1123Label", namespace);
    if (problem) out.push(`${formatPath([...path, "namespace"])}: ${JSON.stringify(namespace)} ${problem}`);
  }
  out.push(...labelAndAnnotationErrors(metadata, path));
  return out;
}

function labelAndAnnotationErrors(metadata: Json, path: Path): string[] {
  const out: string[] = [];
  for (const field of ["labels", "annotations"] as const) {
    const entries = metadata[field];
    if (!isObject(entries)) continue;
    for (const [key, value] of Object.entries(entries)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) out.push(`${formatPath([...path, field, key])}: ${keyProblem}`);
      if (field === "labels" && typeof value === "string" && (value.length > 63 || !LABEL_VALUE.test(value))) {
        out.push(
          `${formatPath([...path, field, key])}: value ${JSON.stringify(value)} must be at most 63 alphanumerics, ` +
            "'-', '_' or '.', starting and ending alphanumeric",
        );
      }
    }
  }
  return out;
}

function podSpecErrors(spec: unknown, path: Path): string[] {
  if (!isObject(spec)) return [];
  const out: string[] = [];
  for (const list of ["initContainers", "containers", "ephemeralContainers"] as const) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    for (const [index, container] of (containers as unknown[]).entries()) {
      if (!isObject(container)) continue;
      const at: Path = [...path, list, index];
      if (typeof container.name === "string") {
        const problem = nameProblem("dns1123Label", container.name);
        if (problem) out.push(`${formatPath([...at, "name"])}: ${JSON.stringify(container.name)} ${problem}`);
      }
      const ports = container.ports;
      if (!Array.isArray(ports)) continue;
      for (const [portIndex, port] of (ports as unknown[]).entries()) {
        if (!isObject(port)) continue;
        const portAt: Path = [...at, "ports", portIndex];
        if (Number.isInteger(port.containerPort) && !isPortNumber(port.containerPort)) {
          out.push(`${formatPath([...portAt, "containerPort"])}: must be between 1 and 65535, got ${describe(port.containerPort)}`);
        }
        if (Number.isInteger(port.hostPort) && !isPortNumber(port.hostPort, 0)) {
          out.push(`${formatPath([...portAt, "hostPort"])}: must be between 0 and 65535, got ${describe(port.hostPort)}`);
        }
        if (typeof port.name === "string") {
          const problem = portNameProblem(port.name);
          if (problem) out.push(`${formatPath([...portAt, "name"])}: ${JSON.stringify(port.name)} ${problem}`);
        }
      }
    }
  }
  return out;
}

/** An int-or-string port: a number in range, or a port name. */
function intOrStringPortErrors(value: unknown, path: Path): string[] {
  if (Number.isInteger(value) && !isPortNumber(value)) {
    return [`${formatPath(path)}: must be between 1 and 65535, got ${describe(value)}`];
  }
  if (typeof value === "string") {
    const problem = portNameProblem(value);
    if (problem) return [`${formatPath(path)}: ${JSON.stringify(value)} ${problem}`];
  }
  return [];
}

function servicePortErrors(spec: Json): string[] {
  const ports = spec.ports;
  if (!Array.isArray(ports)) return [];
  return (ports as unknown[]).flatMap((port, index) => {
    if (!isObject(port)) return [];
    const at: Path = ["spec", "ports", index];
    const out: string[] = [];
    if (Number.isInteger(port.port) && !isPortNumber(port.port)) {
      out.push(`${formatPath([...at, "port"])}: must be between 1 and 65535, got ${describe(port.port)}`);
    }
    out.push(...intOrStringPortErrors(port.targetPort, [...at, "targetPort"]));
    return out;
  });
}

function networkPolicyPortErrors(spec: Json): string[] {
  const out: string[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    const rules = spec[direction];
    if (!Array.isArray(rules)) continue;
    for (const [ruleIndex, rule] of (rules as unknown[]).entries()) {
      if (!isObject(rule) || !Array.isArray(rule.ports)) continue;
      for (const [portIndex, port] of (rule.ports as unknown[]).entries()) {
        if (!isObject(port)) continue;
        const at: Path = ["spec", direction, ruleIndex, "ports", portIndex];
        out.push(...intOrStringPortErrors(port.port, [...at, "port"]));
        if (port.endPort === undefined || port.endPort === null) continue;
        if (typeof port.port !== "number") {
          out.push(`${formatPath([...at, "endPort"])}: may only be set with a numeric port`);
        } else if (!isPortNumber(port.endPort) || port.endPort < port.port) {
          out.push(`${formatPath([...at, "endPort"])}: must be between port (${port.port}) and 65535, got ${describe(port.endPort)}`);
        }
      }
    }
  }
  return out;
}

/** Only `matchLabels` is compared; expression selectors are rare in generated workloads. */
function templateLabelErrors(spec: Json): string[] {
  const selector = valueAt(spec, ["selector", "matchLabels"]);
  const labels = valueAt(spec, ["template", "metadata", "labels"]);
  if (!isObject(selector)) return [];
  const templateLabels = isObject(labels) ? labels : {};
  const out: string[] = [];
  const template = valueAt(spec, ["template", "metadata"]);
  if (isObject(template)) out.push(...labelAndAnnotationErrors(template, ["spec", "template", "metadata"]));
  for (const [key, value] of Object.entries(selector)) {
    if (templateLabels[key] !== value) {
      out.push(
        `spec.template.metadata.labels: must match spec.selector.matchLabels, ${JSON.stringify(key)} is ` +
          `${describe(templateLabels[key])} instead of ${describe(value)}`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Layer 4: CiliumNetworkPolicy.

/*
 * No maintained Cilium model runs on Node 20 (@kubernetes-models/cilium needs Node 22), and the
 * CRD's own schema would need a CRD-to-ajv pipeline for one kind. This checks the fields the hooks
 * use, with the CRD's rules (cilium.io/v2, ciliumnetworkpolicies), and rejects unknown keys at
 * every level it models: the CRD is structural, so the API server prunes unknown keys, and a
 * pruned `toFQDNs` in an egress rule that also has `toPorts` silently widens the rule to every
 * destination on those ports.
 */
const CNP_TOP_LEVEL = new Set(["apiVersion", "kind", "metadata", "spec", "specs", "status"]);
const CNP_RULE_FIELDS = new Set([
  "description",
  "egress",
  "egressDeny",
  "enableDefaultDeny",
  "endpointSelector",
  "ingress",
  "ingressDeny",
  "labels",
  "log",
  "nodeSelector",
]);
const CNP_EGRESS_FIELDS = new Set([
  "authentication",
  "icmps",
  "toCIDR",
  "toCIDRSet",
  "toEndpoints",
  "toEntities",
  "toFQDNs",
  "toGroups",
  "toNodes",
  "toPorts",
  "toRequires",
  "toServices",
]);
const CNP_INGRESS_FIELDS = new Set([
  "authentication",
  "fromCIDR",
  "fromCIDRSet",
  "fromEndpoints",
  "fromEntities",
  "fromGroups",
  "fromNodes",
  "fromRequires",
  "icmps",
  "toPorts",
]);
/** Destination selectors that may not share an egress rule with toFQDNs. */
const CNP_L3_EGRESS = ["toCIDR", "toCIDRSet", "toEndpoints", "toEntities", "toGroups", "toNodes", "toServices"];
const CNP_ENTITIES = new Set([
  "all",
  "cluster",
  "health",
  "host",
  "ingress",
  "init",
  "kube-apiserver",
  "none",
  "remote-node",
  "unmanaged",
  "world",
  "world-ipv4",
  "world-ipv6",
]);
const CNP_PROTOCOLS = ["TCP", "UDP", "SCTP", "VRRP", "IGMP", "ANY"];
const CNP_PORT_RULE_FIELDS = new Set(["listener", "originatingTLS", "ports", "rules", "serverNames", "terminatingTLS"]);
const CNP_L7_RULE_KINDS = ["dns", "http", "kafka", "l7proto"];
const SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];
const FQDN_MATCH_NAME = /^([-a-zA-Z0-9_]+[.]?)+$/;
const FQDN_MATCH_PATTERN = /^([-a-zA-Z0-9_*]+[.]?)+$/;
const NAMED_PORT = /^([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$/;

/**
 * Structural check of a `cilium.io/v2` CiliumNetworkPolicy: `metadata.name`, `spec` (or `specs`)
 * with exactly one of `endpointSelector`/`nodeSelector`, and egress rules built from `toFQDNs`
 * (`matchName` or `matchPattern`), `toCIDR`, `toCIDRSet`, `toEndpoints`, `toEntities` and
 * `toPorts` (`ports[].port` as a *string*, `protocol`, DNS `rules`). Fields it does not model but
 * the CRD allows are accepted unchecked; fields the CRD does not know are errors.
 */
export function validateCiliumNetworkPolicy(policy: Json): string[] {
  const out: string[] = [];
  out.push(...unknownKeyErrors(policy, [], CNP_TOP_LEVEL));
  out.push(...metadataErrors(policy.metadata, ["metadata"], "dns1123Subdomain", false));
  if (policy.spec === undefined && policy.specs === undefined) {
    out.push("spec: required field is missing (or set specs)");
  }
  if (policy.spec !== undefined) out.push(...cnpRuleErrors(policy.spec, ["spec"]));
  if (policy.specs !== undefined) {
    out.push(...arrayErrors(policy.specs, ["specs"], (rule, path) => cnpRuleErrors(rule, path)));
  }
  return unique(out);
}

function cnpRuleErrors(rule: unknown, path: Path): string[] {
  if (!isObject(rule)) return [`${formatPath(path)}: must be an object, got ${describe(rule)}`];
  const out = unknownKeyErrors(rule, path, CNP_RULE_FIELDS);
  const selectors = ["endpointSelector", "nodeSelector"].filter((key) => rule[key] !== undefined && rule[key] !== null);
  if (selectors.length !== 1) {
    out.push(`${formatPath(path)}: must set exactly one of endpointSelector and nodeSelector`);
  }
  for (const key of selectors) out.push(...selectorErrors(rule[key], [...path, key]));
  if (!["ingress", "ingressDeny", "egress", "egressDeny"].some((key) => rule[key] !== undefined && rule[key] !== null)) {
    out.push(`${formatPath(path)}: must set at least one of ingress, ingressDeny, egress and egressDeny`);
  }
  if (rule.description !== undefined && typeof rule.description !== "string") {
    out.push(`${formatPath([...path, "description"])}: must be a string, got ${describe(rule.description)}`);
  }
  if (rule.egress !== undefined) out.push(...arrayErrors(rule.egress, [...path, "egress"], egressRuleErrors));
  if (rule.ingress !== undefined) out.push(...arrayErrors(rule.ingress, [...path, "ingress"], ingressRuleErrors));
  for (const key of ["egressDeny", "ingressDeny"]) {
    if (rule[key] !== undefined) out.push(...arrayErrors(rule[key], [...path, key], objectErrors));
  }
  return out;
}

function egressRuleErrors(rule: unknown, path: Path): string[] {
  if (!isObject(rule)) return [`${formatPath(path)}: must be an object, got ${describe(rule)}`];
  const out = unknownKeyErrors(rule, path, CNP_EGRESS_FIELDS);
  if (rule.toFQDNs !== undefined) {
    out.push(...arrayErrors(rule.toFQDNs, [...path, "toFQDNs"], fqdnSelectorErrors));
    const mixed = CNP_L3_EGRESS.filter((key) => rule[key] !== undefined && rule[key] !== null);
    if (mixed.length > 0) {
      out.push(`${formatPath(path)}: toFQDNs cannot be combined with ${mixed.join(", ")} in one egress rule`);
    }
  }
  if (rule.toCIDR !== undefined) out.push(...arrayErrors(rule.toCIDR, [...path, "toCIDR"], cidrErrors));
  if (rule.toCIDRSet !== undefined) out.push(...arrayErrors(rule.toCIDRSet, [...path, "toCIDRSet"], cidrRuleErrors));
  if (rule.toEndpoints !== undefined) out.push(...arrayErrors(rule.toEndpoints, [...path, "toEndpoints"], selectorErrors));
  if (rule.toEntities !== undefined) out.push(...arrayErrors(rule.toEntities, [...path, "toEntities"], entityErrors));
  if (rule.toPorts !== undefined) out.push(...arrayErrors(rule.toPorts, [...path, "toPorts"], portRuleErrors));
  return out;
}

function ingressRuleErrors(rule: unknown, path: Path): string[] {
  if (!isObject(rule)) return [`${formatPath(path)}: must be an object, got ${describe(rule)}`];
  const out = unknownKeyErrors(rule, path, CNP_INGRESS_FIELDS);
  if (rule.fromCIDR !== undefined) out.push(...arrayErrors(rule.fromCIDR, [...path, "fromCIDR"], cidrErrors));
  if (rule.fromCIDRSet !== undefined) out.push(...arrayErrors(rule.fromCIDRSet, [...path, "fromCIDRSet"], cidrRuleErrors));
  if (rule.fromEndpoints !== undefined) {
    out.push(...arrayErrors(rule.fromEndpoints, [...path, "fromEndpoints"], selectorErrors));
  }
  if (rule.fromEntities !== undefined) out.push(...arrayErrors(rule.fromEntities, [...path, "fromEntities"], entityErrors));
  if (rule.toPorts !== undefined) out.push(...arrayErrors(rule.toPorts, [...path, "toPorts"], portRuleErrors));
  return out;
}

/** `{matchName}` or `{matchPattern}`, used by toFQDNs and by DNS L7 rules. */
function fqdnSelectorErrors(selector: unknown, path: Path): string[] {
  if (!isObject(selector)) return [`${formatPath(path)}: must be an object, got ${describe(selector)}`];
  const out = unknownKeyErrors(selector, path, new Set(["matchName", "matchPattern"]));
  const set = (["matchName", "matchPattern"] as const).filter((key) => selector[key] !== undefined && selector[key] !== null);
  if (set.length !== 1) out.push(`${formatPath(path)}: must set exactly one of matchName and matchPattern`);
  for (const key of set) {
    const value = selector[key];
    const pattern = key === "matchName" ? FQDN_MATCH_NAME : FQDN_MATCH_PATTERN;
    if (typeof value !== "string" || value.length > 255 || !pattern.test(value)) {
      out.push(
        `${formatPath([...path, key])}: must be a DNS name${key === "matchPattern" ? " pattern (letters, digits, '-', '_', '*', '.')" : ""}, ` +
          `got ${describe(value)}`,
      );
    }
  }
  return out;
}

function cidrProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return `must be a CIDR string, got ${describe(value)}`;
  const [address, prefix, ...rest] = value.split("/");
  const family = isIP(address ?? "");
  const bits = Number(prefix);
  const valid =
    rest.length === 0 &&
    family !== 0 &&
    prefix !== undefined &&
    /^\d{1,3}$/.test(prefix) &&
    bits <= (family === 4 ? 32 : 128);
  return valid ? undefined : `must be a CIDR such as "10.0.0.0/8", got ${describe(value)}`;
}

function cidrErrors(value: unknown, path: Path): string[] {
  const problem = cidrProblem(value);
  return problem ? [`${formatPath(path)}: ${problem}`] : [];
}

function cidrRuleErrors(rule: unknown, path: Path): string[] {
  if (!isObject(rule)) return [`${formatPath(path)}: must be an object, got ${describe(rule)}`];
  const out = unknownKeyErrors(rule, path, new Set(["cidr", "cidrGroupRef", "cidrGroupSelector", "except"]));
  const sources = ["cidr", "cidrGroupRef", "cidrGroupSelector"].filter((key) => rule[key] !== undefined && rule[key] !== null);
  if (sources.length !== 1) out.push(`${formatPath(path)}: must set exactly one of cidr, cidrGroupRef and cidrGroupSelector`);
  if (rule.cidr !== undefined) out.push(...cidrErrors(rule.cidr, [...path, "cidr"]));
  if (rule.except !== undefined) out.push(...arrayErrors(rule.except, [...path, "except"], cidrErrors));
  return out;
}

function entityErrors(value: unknown, path: Path): string[] {
  return typeof value === "string" && CNP_ENTITIES.has(value)
    ? []
    : [`${formatPath(path)}: must be one of ${[...CNP_ENTITIES].join(", ")}, got ${describe(value)}`];
}

/** A Kubernetes label selector, as Cilium's endpoint selectors use it. */
function selectorErrors(selector: unknown, path: Path): string[] {
  if (!isObject(selector)) return [`${formatPath(path)}: must be an object, got ${describe(selector)}`];
  const out = unknownKeyErrors(selector, path, new Set(["matchLabels", "matchExpressions"]));
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isObject(matchLabels)) {
      out.push(`${formatPath([...path, "matchLabels"])}: must be an object, got ${describe(matchLabels)}`);
    } else {
      for (const [key, value] of Object.entries(matchLabels)) {
        if (typeof value !== "string" || value.length > 63 || !LABEL_VALUE.test(value)) {
          out.push(`${formatPath([...path, "matchLabels", key])}: must be a label value, got ${describe(value)}`);
        }
      }
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    out.push(
      ...arrayErrors(matchExpressions, [...path, "matchExpressions"], (expression, at) => {
        if (!isObject(expression)) return [`${formatPath(at)}: must be an object, got ${describe(expression)}`];
        const problems = unknownKeyErrors(expression, at, new Set(["key", "operator", "values"]));
        if (typeof expression.key !== "string") problems.push(`${formatPath([...at, "key"])}: required string is missing`);
        if (typeof expression.operator !== "string" || !SELECTOR_OPERATORS.includes(expression.operator)) {
          problems.push(
            `${formatPath([...at, "operator"])}: must be one of ${SELECTOR_OPERATORS.join(", ")}, got ${describe(expression.operator)}`,
          );
        }
        return problems;
      }),
    );
  }
  return out;
}

function portRuleErrors(rule: unknown, path: Path): string[] {
  if (!isObject(rule)) return [`${formatPath(path)}: must be an object, got ${describe(rule)}`];
  const out = unknownKeyErrors(rule, path, CNP_PORT_RULE_FIELDS);
  if (rule.ports !== undefined) out.push(...arrayErrors(rule.ports, [...path, "ports"], portProtocolErrors));
  const l7 = rule.rules;
  if (l7 !== undefined && l7 !== null) {
    if (!isObject(l7)) {
      out.push(`${formatPath([...path, "rules"])}: must be an object, got ${describe(l7)}`);
    } else {
      out.push(...unknownKeyErrors(l7, [...path, "rules"], new Set([...CNP_L7_RULE_KINDS, "l7"])));
      const kinds = CNP_L7_RULE_KINDS.filter((key) => l7[key] !== undefined && l7[key] !== null);
      if (kinds.length !== 1) {
        out.push(`${formatPath([...path, "rules"])}: must set exactly one of ${CNP_L7_RULE_KINDS.join(", ")}`);
      }
      if (l7.dns !== undefined) out.push(...arrayErrors(l7.dns, [...path, "rules", "dns"], fqdnSelectorErrors));
    }
  }
  return out;
}

function portProtocolErrors(entry: unknown, path: Path): string[] {
  if (!isObject(entry)) return [`${formatPath(path)}: must be an object, got ${describe(entry)}`];
  const out = unknownKeyErrors(entry, path, new Set(["port", "protocol", "endPort"]));
  const { port, protocol, endPort } = entry;
  if (port === undefined || port === null) {
    out.push(`${formatPath([...path, "port"])}: required field is missing`);
  } else if (typeof port !== "string") {
    // The CRD types port as a string; a JSON number is refused by the API server.
    out.push(`${formatPath([...path, "port"])}: must be a string such as "443", got ${describe(port)}`);
  } else if (/^\d+$/.test(port) ? Number(port) > 65535 : !NAMED_PORT.test(port)) {
    out.push(`${formatPath([...path, "port"])}: must be a port number 0-65535 or a port name, got ${describe(port)}`);
  }
  if (protocol !== undefined && protocol !== null && (typeof protocol !== "string" || !CNP_PROTOCOLS.includes(protocol))) {
    out.push(`${formatPath([...path, "protocol"])}: must be one of ${CNP_PROTOCOLS.join(", ")}, got ${describe(protocol)}`);
  }
  if (endPort !== undefined && endPort !== null && !isPortNumber(endPort, 0)) {
    out.push(`${formatPath([...path, "endPort"])}: must be an integer 0-65535, got ${describe(endPort)}`);
  }
  return out;
}

function objectErrors(value: unknown, path: Path): string[] {
  return isObject(value) ? [] : [`${formatPath(path)}: must be an object, got ${describe(value)}`];
}

function arrayErrors(value: unknown, path: Path, each: (item: unknown, path: Path) => string[]): string[] {
  if (value === null) return [];
  if (!Array.isArray(value)) return [`${formatPath(path)}: must be an array, got ${describe(value)}`];
  return (value as unknown[]).flatMap((item, index) => each(item, [...path, index]));
}

function unknownKeyErrors(value: Json, path: Path, known: ReadonlySet<string>): string[] {
  return Object.keys(value)
    .filter((key) => !known.has(key))
    .map((key) => `${formatPath([...path, key])}: unknown field; the API server would drop it`);
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function unique(messages: readonly string[]): string[] {
  return [...new Set(messages)];
}

/** JSON pointer (RFC 6901), as ajv reports it, to path segments. */
function fromPointer(pointer: string): Path {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const segment of path) {
    if (typeof segment === "number" ? !Array.isArray(current) : !isObject(current)) return undefined;
    current = (current as Readonly<Record<string | number, unknown>>)[segment];
  }
  return current;
}

/** `spec.containers[0].name`, with `metadata.labels["app.kubernetes.io/name"]` for odd keys. */
function formatPath(path: Path): string {
  if (path.length === 0) return "(root)";
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) return index === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join("");
}
