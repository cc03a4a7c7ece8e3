/**
 * `llmsafespace-hooks render`: the children the sync hook would answer for Sandboxes and
 * WarmPools given as YAML, with no cluster. It builds the request Metacontroller would send and
 * answers it through the server's own hook runner — the same validation, defaults and hooks.
 */
import { createHash } from "node:crypto";
import { parseAllDocuments, stringify } from "yaml";
import { hookRunner, type AppDeps, type HookName } from "../server/index.js";
import { API_VERSION } from "../api/index.js";
import { HttpError } from "../server/index.js";
import { runtimeName } from "../children/index.js";
import type { KubeObject, ObjectMap } from "../api/index.js";

/** A failure the user can fix; its message says how. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

export interface RenderFile {
  /** Where the text came from, for messages (`-` for standard input). */
  name: string;
  text: string;
}

const PARENTS: Record<string, HookName> = { Sandbox: "sandbox/sync", WarmPool: "warmpool/sync" };
const RELATED = new Set(["RuntimeEnvironment", "SandboxProfile"]);

interface Resource extends KubeObject {
  spec?: { runtime?: unknown; profileRef?: { name?: unknown; namespace?: unknown } };
}

/** The desired children of every Sandbox and WarmPool in the files, as one YAML stream. */
export async function render(files: readonly RenderFile[], deps: AppDeps): Promise<string> {
  const objects = files.flatMap(parseFile);
  const parents = objects.filter((o) => o.kind in PARENTS);
  if (parents.length === 0) {
    throw new RenderError("Nothing to render: give at least one Sandbox or WarmPool (with its RuntimeEnvironment) with -f.");
  }
  const related: ObjectMap = {};
  for (const found of objects.filter((o) => RELATED.has(o.kind))) {
    // A SandboxProfile is namespaced: without a namespace in its file, kubectl would use "default".
    const object =
      found.kind === "SandboxProfile" && found.metadata.namespace === undefined
        ? { ...found, metadata: { ...found.metadata, namespace: "default" } }
        : found;
    const key = object.metadata.namespace === undefined ? object.metadata.name : `${object.metadata.namespace}/${object.metadata.name}`;
    (related[`${object.kind}.${object.apiVersion}`] ??= {})[key] = object;
  }

  const run = hookRunner(deps);
  const out: string[] = [];
  for (const parent of parents) {
    const namespaced = withIdentity(parent);
    requireRelated(namespaced, objects);
    const hook = PARENTS[parent.kind] as HookName;
    let answer: { children?: KubeObject[]; status?: { phase?: string } };
    try {
      const sync = async (children: ObjectMap) =>
        (await run(hook, {
          controller: { apiVersion: "metacontroller.k8s.io/v1alpha1", kind: "CompositeController", metadata: { name: "render" } },
          parent: namespaced,
          children,
          related: structuredClone(related),
          finalizing: false,
        })) as typeof answer;
      // What the parent settles to: a first sync asks for the ServiceAccount before the pod that
      // names it (SPEC §4.2), so the answer printed is the one once the first answer's children exist.
      answer = await sync(observedAs(await sync({})));
    } catch (error) {
      if (error instanceof HttpError) {
        throw new RenderError(`${parent.kind} ${describe(namespaced)} is not valid:\n  - ${error.details.join("\n  - ")}`);
      }
      throw error;
    }
    const phase = answer.status?.phase === undefined ? "" : ` (phase ${answer.status.phase})`;
    for (const child of answer.children ?? []) {
      out.push(`# ${parent.kind} ${describe(namespaced)}${phase}\n${stringify(child, { lineWidth: 0 })}`);
    }
  }
  return out.join("---\n");
}

/** A sync answer's children as Metacontroller would send them back once they exist. */
function observedAs(answer: { children?: KubeObject[] }): ObjectMap {
  const children: ObjectMap = {};
  for (const child of answer.children ?? []) {
    (children[`${child.kind}.${child.apiVersion}`] ??= {})[`${child.metadata.namespace ?? ""}/${child.metadata.name}`] = structuredClone(child);
  }
  return children;
}

function parseFile(file: RenderFile): Resource[] {
  const documents = parseAllDocuments(file.text);
  const objects: Resource[] = [];
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    if (document.errors.length > 0) {
      throw new RenderError(`${file.name} is not YAML: ${document.errors[0]?.message ?? "parse error"}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.kind !== "string" || !isObject(value.metadata) || typeof value.metadata.name !== "string") {
      throw new RenderError(`${file.name}: every document must be a Kubernetes object with kind and metadata.name.`);
    }
    const object = value as unknown as Resource;
    if (object.apiVersion !== API_VERSION || !(object.kind in PARENTS || RELATED.has(object.kind))) {
      throw new RenderError(
        `${file.name}: ${object.apiVersion}/${object.kind} ${object.metadata.name} is not a kind render knows; ` +
          `give ${API_VERSION} Sandbox, WarmPool, RuntimeEnvironment and SandboxProfile objects.`,
      );
    }
    objects.push(object);
  }
  return objects;
}

/**
 * What the API server would have added: the namespace `kubectl` would use, and a uid (stable,
 * so two renders of one file print the same labels).
 */
function withIdentity(parent: Resource): Resource {
  const namespace = parent.metadata.namespace ?? "default";
  const digest = createHash("sha256").update(`${parent.kind}/${namespace}/${parent.metadata.name}`).digest("hex");
  const uid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
  return { ...structuredClone(parent), metadata: { ...structuredClone(parent.metadata), namespace, uid: parent.metadata.uid ?? uid } };
}

/** A missing RuntimeEnvironment or profile is a missing file here, not a Failed status. */
function requireRelated(parent: Resource, objects: readonly Resource[]): void {
  const runtime = parent.spec?.runtime;
  if (typeof runtime === "string") {
    const name = runtimeName(runtime);
    if (!objects.some((o) => o.kind === "RuntimeEnvironment" && o.metadata.name === name)) {
      throw new RenderError(
        `${parent.kind} ${describe(parent)} runs ${runtime}, but no RuntimeEnvironment ${name} was given; add its file with -f.`,
      );
    }
  }
  const ref = parent.spec?.profileRef;
  if (ref !== undefined && typeof ref.name === "string") {
    const namespace = typeof ref.namespace === "string" ? ref.namespace : parent.metadata.namespace;
    if (!objects.some((o) => o.kind === "SandboxProfile" && o.metadata.name === ref.name && (o.metadata.namespace ?? "default") === namespace)) {
      throw new RenderError(
        `${parent.kind} ${describe(parent)} names SandboxProfile ${namespace ?? ""}/${ref.name}, which was not given; add its file with -f.`,
      );
    }
  }
}

function describe(object: KubeObject): string {
  return `${object.metadata.namespace ?? "default"}/${object.metadata.name}`;
}

function isObject(value: unknown): value is Record<string, unknown> & { metadata?: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
