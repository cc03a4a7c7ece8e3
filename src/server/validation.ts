/**
 * Request validation at the HTTP edge: the Metacontroller envelope plus the parent's schema from
 * `crds/` (one source). Validation also applies the CRD defaults, as the API server would, so a
 * hook never sees an undefined field that has a default.
 *
 * Observed children, and related pods (a pool's claimed pods), are checked only as far as a hook
 * reads them: validating every field of thousands of pods would cost more than the hook itself.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { loadCrdSchemas, type CrdVersionSchemas, type OpenApiSchema } from "../api/index.js";
import type { KubeObject, ObjectMap } from "../api/index.js";

/** A JSON-pointer-free, human path: `parent.spec.securityLevel`. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; details: string[] };

export type Validator = <T>(body: unknown) => ValidationResult<T>;

const MAX_DETAILS = 20;

// RFC 3339, the form metav1.Time takes on the wire.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const STRING_MAP = { type: "object", additionalProperties: { type: "string" } } as const;

const OBJECT_META = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", minLength: 1 },
    namespace: { type: "string" },
    uid: { type: "string" },
    generation: { type: "integer" },
    creationTimestamp: { type: "string" },
    deletionTimestamp: { type: "string" },
    labels: STRING_MAP,
    annotations: STRING_MAP,
  },
} as const;

// The names the API server allows, as patterns that match in linear time (no ambiguous repeats):
// a parent's name and namespace become child names, labels and selectors.
const OBJECT_NAME = {
  type: "string",
  maxLength: 253,
  pattern: "^[a-z0-9]+(-+[a-z0-9]+)*(\\.[a-z0-9]+(-+[a-z0-9]+)*)*$",
} as const;
const NAMESPACE_NAME = { type: "string", maxLength: 63, pattern: "^[a-z0-9]+(-+[a-z0-9]+)*$" } as const;
/** The API server makes every uid an RFC 4122 UUID; the hooks put it in labels. */
const OBJECT_UID = {
  type: "string",
  pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
} as const;

/** The patterns the envelope itself applies (the CRDs' come on top), for the ReDoS check. */
export const ENVELOPE_PATTERNS: readonly string[] = [OBJECT_NAME.pattern, NAMESPACE_NAME.pattern, OBJECT_UID.pattern];

/** What the hooks read of an observed Pod. */
const OBSERVED_POD = {
  properties: {
    spec: { type: "object" },
    status: {
      type: "object",
      properties: {
        phase: { type: "string" },
        reason: { type: "string" },
        message: { type: "string" },
        startTime: { type: "string" },
        conditions: {
          type: "array",
          items: {
            type: "object",
            required: ["type", "status"],
            properties: {
              type: { type: "string" },
              status: { type: "string" },
              lastTransitionTime: { type: "string" },
            },
          },
        },
      },
    },
  },
} as const;

function kindIs(apiVersion: string, kind: string) {
  return { properties: { apiVersion: { const: apiVersion }, kind: { const: kind } }, required: ["apiVersion", "kind"] };
}

/** A whole custom resource of one kind, its spec (and status) straight from the CRD. */
function resourceSchema(crd: CrdVersionSchemas, requireUid: boolean): OpenApiSchema {
  const apiVersion = `${crd.group}/${crd.version}`;
  return {
    type: "object",
    required: ["apiVersion", "kind", "metadata", "spec"],
    properties: {
      apiVersion: { const: apiVersion },
      kind: { const: crd.kind },
      metadata: {
        ...OBJECT_META,
        properties: {
          ...OBJECT_META.properties,
          name: OBJECT_NAME,
          namespace: NAMESPACE_NAME,
          // Only the parent's uid goes into labels; a related object's is never read.
          ...(requireUid ? { uid: OBJECT_UID } : {}),
        },
        required: ["name", ...(crd.namespaced ? ["namespace"] : []), ...(requireUid ? ["uid"] : [])],
      },
      spec: crd.spec,
      ...(crd.status !== undefined ? { status: crd.status } : {}),
    },
  };
}

/**
 * A children or related map: `Kind.apiVersion` → key → object. Keys are not trusted; each value
 * must be a Kubernetes object, and an observed Pod must have the shape the hooks read.
 */
function objectMap(): OpenApiSchema {
  return {
    type: "object",
    additionalProperties: {
      type: "object",
      additionalProperties: {
        type: "object",
        required: ["apiVersion", "kind", "metadata"],
        properties: {
          apiVersion: { type: "string" },
          kind: { type: "string" },
          metadata: OBJECT_META,
        },
        if: kindIs("v1", "Pod"),
        then: OBSERVED_POD,
      },
    },
  };
}

export interface HookSchemas {
  customize: OpenApiSchema;
  sync: OpenApiSchema;
  finalize: OpenApiSchema;
}

/**
 * The request schemas of one parent kind's hooks. Finalize reads only the parent's metadata and
 * status and the children, so it checks the parent's spec no further than "an object": a spec
 * that an older or newer CRD allowed must never keep a deleted parent from going.
 */
export function hookSchemas(parent: CrdVersionSchemas): HookSchemas {
  const parentSchema = resourceSchema(parent, true);
  const envelope = (parentOfHook: OpenApiSchema) => ({
    type: "object",
    required: ["parent", "children"],
    properties: {
      controller: { type: "object" },
      parent: parentOfHook,
      children: objectMap(),
      related: { ...objectMap(), default: {} },
      finalizing: { type: "boolean", default: false },
    },
  });
  return {
    customize: {
      type: "object",
      required: ["parent"],
      properties: { controller: { type: "object" }, parent: parentSchema },
    },
    sync: envelope(parentSchema),
    finalize: envelope(resourceSchema({ ...parent, spec: { type: "object" } }, true)),
  };
}

/** An ajv instance that reads Kubernetes structural schemas as the API server does. */
export function kubernetesAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    // Structural schemas put constraints such as `pattern` beside an int-or-string `anyOf`
    // without a `type`; that is valid there and means "applies to strings".
    strictTypes: false,
  });
  ajv.addVocabulary([
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
  ]);
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat("date-time", DATE_TIME);
  return ajv;
}

/** What {@link RequestValidators.checkRelated} keeps and what it leaves out. */
export interface CheckedRelated {
  /** The related objects that match their CRD, with its defaults applied. */
  related: ObjectMap;
  /** The ones that do not, keyed `Kind/namespace/name`, with what is wrong. */
  problems: Map<string, string[]>;
}

/** Compiled validators for every hook of the server, built once at start. */
export class RequestValidators {
  private readonly compiled = new Map<string, ValidateFunction>();
  /** By kind, then apiVersion: looked up for every related object, without building a key. */
  private readonly relatedKinds = new Map<string, Map<string, ValidateFunction>>();

  constructor(crds: Map<string, CrdVersionSchemas> = loadCrdSchemas()) {
    const ajv = kubernetesAjv();
    const need = (kind: string): CrdVersionSchemas => {
      const crd = crds.get(kind);
      if (crd === undefined) throw new Error(`crds/ has no CustomResourceDefinition for kind ${kind}`);
      return crd;
    };
    for (const [route, kind] of [["sandbox", "Sandbox"], ["warmpool", "WarmPool"]] as const) {
      const schemas = hookSchemas(need(kind));
      this.compiled.set(`${route}/customize`, ajv.compile(schemas.customize));
      this.compiled.set(`${route}/sync`, ajv.compile(schemas.sync));
      this.compiled.set(`${route}/finalize`, ajv.compile(schemas.finalize));
    }
    for (const kind of ["RuntimeEnvironment", "SandboxProfile"]) {
      const crd = need(kind);
      this.relatedKinds.set(kind, new Map([[`${crd.group}/${crd.version}`, ajv.compile(resourceSchema(crd, false))]]));
    }
  }

  /**
   * Checks each related object of our own kinds against its CRD. Unlike the parent, a related
   * object that does not match is not a reason to refuse the request — that would stop every
   * Sandbox that names it from expiring or being deleted — so it is left out and reported.
   */
  checkRelated(related: ObjectMap): CheckedRelated {
    const kept: ObjectMap = {};
    const problems = new Map<string, string[]>();
    for (const [groupKey, group] of Object.entries(related)) {
      for (const [key, object] of Object.entries(group)) {
        const validate = this.relatedKinds.get(object.kind)?.get(object.apiVersion);
        if (validate !== undefined && !validate(object)) {
          problems.set(objectName(object), describeErrors(validate.errors ?? []));
          continue;
        }
        (kept[groupKey] ??= {})[key] = object;
      }
    }
    return { related: kept, problems };
  }

  /** Validates (and defaults, in place) the body of one hook's request. */
  validate<T>(hook: string, body: unknown): ValidationResult<T> {
    const validate = this.compiled.get(hook);
    if (validate === undefined) throw new Error(`No request schema for hook ${hook}`);
    if (validate(body)) return { ok: true, value: body as T };
    return { ok: false, details: describeErrors(validate.errors ?? []) };
  }
}

/** `Kind/namespace/name`, as RelatedProblems are keyed (src/sandbox/sandbox.ts). */
function objectName(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/** ajv errors as sentences that name the field, deduplicated and capped. */
export function describeErrors(errors: readonly ErrorObject[]): string[] {
  const details = new Set<string>();
  // "one of these fields is required" comes as one anyOf error plus a `required` error per
  // branch; say it once, naming the choices.
  const anyOfRequired = new Map<string, string[]>();
  for (const error of errors) {
    if (error.keyword === "required" && /\/anyOf\/\d+\/required$/.test(error.schemaPath)) {
      const choices = anyOfRequired.get(error.instancePath) ?? [];
      choices.push(String((error.params as Record<string, unknown>).missingProperty));
      anyOfRequired.set(error.instancePath, choices);
    }
  }
  for (const error of errors) {
    // `if` failures only say "must match then schema"; the error that explains it is also listed.
    if (error.keyword === "if") continue;
    const path = humanPath(error.instancePath);
    const field = (name: string) => (path === "" ? name : `${path}.${name}`);
    const params = error.params as Record<string, unknown>;
    const choices = anyOfRequired.get(error.instancePath);
    if (choices !== undefined && (error.keyword === "anyOf" || error.keyword === "required")) {
      if (error.keyword === "anyOf") details.add(`${path}: needs at least one of ${choices.join(", ")}`);
      continue;
    }
    switch (error.keyword) {
      case "required":
        details.add(`${field(String(params.missingProperty))}: is required`);
        break;
      case "enum":
        details.add(`${path}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`);
        break;
      case "const":
        details.add(`${path}: must be ${JSON.stringify(params.allowedValue)}`);
        break;
      case "pattern":
        details.add(
          String(params.pattern).includes("KMGTPE")
            ? `${path}: must be a Kubernetes quantity such as 500m, 1.5, 512Mi or 1G`
            : `${path}: must match ${String(params.pattern)}`,
        );
        break;
      default:
        details.add(`${path === "" ? "(body)" : path}: ${error.message ?? "is invalid"}`);
    }
  }
  const list = [...details];
  return list.length > MAX_DETAILS ? [...list.slice(0, MAX_DETAILS), `…and ${list.length - MAX_DETAILS} more`] : list;
}

function humanPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .join(".");
}
