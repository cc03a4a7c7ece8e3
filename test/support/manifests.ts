/**
 * The YAML this repository ships for a cluster — `metacontroller/` and `examples/` — read the way
 * kubectl reads it, and the examples' Sandboxes and WarmPools answered by the in-process hooks the
 * way Metacontroller asks: customize first, then sync with the related objects customize named,
 * found among the examples.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import request from "supertest";
import { parseAllDocuments } from "yaml";
import type { RelatedResourceRule } from "../../src/api/metacontroller.js";
import { FIXTURE_NOW, testApp } from "./app.js";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const MANIFESTS = join(REPO, "metacontroller");
export const EXAMPLES = join(REPO, "examples");

/** A Kubernetes object as a manifest holds it. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * Every document of a YAML file. YAML 1.1, as kubectl (sigs.k8s.io/yaml) reads it: `0440` is
 * octal there and `yes` a boolean, where YAML 1.2 would read a number and a string.
 */
export function yamlObjects(path: string): ManifestObject[] {
  return yamlText(readFileSync(path, "utf8"), relative(REPO, path));
}

/** {@link yamlObjects} for YAML already in hand, such as `kubectl kustomize` output. */
export function yamlText(text: string, source: string): ManifestObject[] {
  const objects: ManifestObject[] = [];
  for (const document of parseAllDocuments(text, { version: "1.1" })) {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors.map((e) => e.message).join("; ")}`);
    const object = document.toJS() as ManifestObject | null;
    if (object !== null) objects.push(object);
  }
  return objects;
}

/** The `.yaml` files of a folder and the folders below it, sorted, as absolute paths. */
export function yamlFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => join(directory, file));
}

/** Every object of every example, with the file it came from. */
export function exampleObjects(): { file: string; object: ManifestObject }[] {
  return yamlFiles(EXAMPLES).flatMap((path) => yamlObjects(path).map((object) => ({ file: relative(REPO, path), object })));
}

/** The CompositeController under metacontroller/ whose parent is `resource` (e.g. `sandboxes`). */
export function compositeController(resource: string): ManifestObject {
  const found = yamlFiles(MANIFESTS)
    .filter((path) => dirname(path) === MANIFESTS)
    .flatMap(yamlObjects)
    .find((object) => object.kind === "CompositeController" && controllerSpec(object).parentResource.resource === resource);
  if (found === undefined) throw new Error(`metacontroller/ has no CompositeController for ${resource}`);
  return found;
}

export interface ChildResourceRule {
  apiVersion: string;
  resource: string;
  updateStrategy?: { method?: string };
}

export interface WebhookHook {
  version?: string;
  webhook?: {
    url?: string;
    timeout?: string;
    authorization?: { type?: string; secretRef?: { name?: string; namespace?: string; key?: string } };
  };
}

export interface CompositeControllerSpec {
  parentResource: { apiVersion: string; resource: string };
  childResources?: ChildResourceRule[];
  generateSelector?: boolean;
  resyncPeriodSeconds?: number;
  hooks?: Record<string, WebhookHook | undefined>;
}

export function controllerSpec(object: ManifestObject): CompositeControllerSpec {
  return object.spec as CompositeControllerSpec;
}

let kinds: Map<string, string> | undefined;

/** The kind of a plural resource name: the built-in kinds the controllers name, then our CRDs. */
export function kindOf(resource: string): string {
  if (kinds === undefined) {
    kinds = new Map([
      ["pods", "Pod"],
      ["namespaces", "Namespace"],
      ["services", "Service"],
      ["serviceaccounts", "ServiceAccount"],
      ["networkpolicies", "NetworkPolicy"],
      ["persistentvolumeclaims", "PersistentVolumeClaim"],
      ["ciliumnetworkpolicies", "CiliumNetworkPolicy"],
    ]);
    for (const crd of yamlFiles(join(REPO, "crds")).flatMap(yamlObjects)) {
      if (crd.kind !== "CustomResourceDefinition") continue;
      const names = (crd.spec as { names: { plural: string; kind: string } }).names;
      kinds.set(names.plural, names.kind);
    }
  }
  const kind = kinds.get(resource);
  if (kind === undefined) throw new Error(`No kind known for resource ${resource}`);
  return kind;
}

/** `Kind.apiVersion`, the key of one type in a request's children or related map. */
export function typeKey(rule: { apiVersion: string; resource: string }): string {
  return `${kindOf(rule.resource)}.${rule.apiVersion}`;
}

/** What Metacontroller would send as `related` for these rules, from the example objects. */
export function relatedFrom(rules: readonly RelatedResourceRule[], objects: readonly ManifestObject[]): Record<string, Record<string, ManifestObject>> {
  const related: Record<string, Record<string, ManifestObject>> = {};
  for (const rule of rules) {
    const group = (related[typeKey(rule)] ??= {});
    const kind = kindOf(rule.resource);
    for (const object of objects) {
      if (object.apiVersion !== rule.apiVersion || object.kind !== kind) continue;
      if (rule.namespace !== undefined && object.metadata.namespace !== rule.namespace) continue;
      if (rule.names !== undefined && !rule.names.includes(object.metadata.name)) continue;
      const labels = object.metadata.labels ?? {};
      if (Object.entries(rule.labelSelector?.matchLabels ?? {}).some(([key, value]) => labels[key] !== value)) continue;
      const key = object.metadata.namespace === undefined ? object.metadata.name : `${object.metadata.namespace}/${object.metadata.name}`;
      group[key] = structuredClone(object);
    }
  }
  return related;
}

export interface ExampleAnswer {
  /** The sync request that was sent. */
  request: Record<string, unknown>;
  status: number;
  text: string;
  body: { children?: ManifestObject[]; status?: Record<string, unknown> & { phase?: string } };
}

/** A stable UUID-shaped uid for an example object, as the API server would assign one. */
function uidOf(object: ManifestObject): string {
  const hex = createHash("sha256").update(`${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const ROUTES: Readonly<Record<string, { route: string; resource: string }>> = {
  Sandbox: { route: "sandbox", resource: "sandboxes" },
  WarmPool: { route: "warmpool", resource: "warmpools" },
};

/**
 * The sync answer for an example Sandbox or WarmPool, as a freshly created parent once the
 * children of its first answer exist (a new pod waits for its ServiceAccount, SPEC §4.2):
 * customize names the related objects, which are taken from `objects`, and the children map has
 * an entry for each child rule of the parent's CompositeController.
 */
export async function answerExample(
  parent: ManifestObject,
  objects: readonly ManifestObject[],
  env: Record<string, string> = {},
): Promise<ExampleAnswer> {
  const target = ROUTES[parent.kind];
  if (target === undefined) throw new Error(`No hooks for kind ${parent.kind}`);
  const controller = compositeController(target.resource);
  const app = testApp({ env });
  const post = async (hook: string, body: unknown) =>
    request(app).post(`/${target.route}/${hook}`).set("content-type", "application/json").send(JSON.stringify(body));

  const live = structuredClone(parent);
  Object.assign(live.metadata, { uid: uidOf(parent), generation: 1, creationTimestamp: FIXTURE_NOW });
  const customized = await post("customize", { controller, parent: live });
  if (customized.status !== 200) throw new Error(`${target.route}/customize answered ${customized.status}: ${customized.text}`);
  const { relatedResources } = customized.body as { relatedResources: RelatedResourceRule[] };

  const children: Record<string, Record<string, unknown>> = Object.fromEntries(
    (controllerSpec(controller).childResources ?? []).map((rule) => [typeKey(rule), {}]),
  );
  const body = { controller, parent: live, children, related: relatedFrom(relatedResources, objects), finalizing: false };
  const first = await post("sync", structuredClone(body));
  if (first.status !== 200) throw new Error(`${target.route}/sync answered ${first.status}: ${first.text}`);
  for (const child of (first.body as ExampleAnswer["body"]).children ?? []) {
    (children[`${child.kind}.${child.apiVersion}`] ??= {})[`${child.metadata.namespace ?? ""}/${child.metadata.name}`] = structuredClone(child);
  }
  const synced = await post("sync", body);
  return { request: body, status: synced.status, text: synced.text, body: synced.body as ExampleAnswer["body"] };
}
