/**
 * Metacontroller's hook wire format (CompositeController, hooks `version: v2`).
 *
 * See https://metacontroller.github.io/metacontroller/api/compositecontroller.html and
 * `pkg/controller/composite/api/v2/hooks.go` in metacontroller/metacontroller.
 * These are the shapes *after* the request validator has checked them; raw JSON never
 * reaches a hook.
 */

/** Object metadata as Metacontroller sends it: plain JSON, timestamps are strings. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The metadata a builder sets on a child: nothing the server or Metacontroller owns. */
export interface ChildMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any Kubernetes object: the part every hook may rely on. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/**
 * `children` and `related`: `<Kind>.<apiVersion>` → (`name` in v1, `namespace/name` in v2) → object.
 * The keys differ between hook versions, so code iterates the values and reads each object's own
 * `apiVersion`, `kind` and `metadata` — it never trusts the keys.
 */
export type ObjectMap = Record<string, Record<string, KubeObject>>;

/** The body of a sync or finalize request. */
export interface HookRequest<Parent extends KubeObject> {
  controller: KubeObject;
  parent: Parent;
  children: ObjectMap;
  related: ObjectMap;
  finalizing: boolean;
}

/** The body of a sync or finalize response. */
export interface HookResponse<Status> {
  /** Replaces the parent's `.status` wholesale (Metacontroller adds `observedGeneration`). */
  status: Status;
  /** Every desired child. A child observed but left out is deleted. */
  children: KubeObject[];
  /** A one-time resync of this parent after so many seconds. */
  resyncAfterSeconds?: number;
  /** Finalize only: cleanup is done and the parent's finalizer may go. */
  finalized?: boolean;
}

/** The body of a customize request. */
export interface CustomizeRequest<Parent extends KubeObject> {
  controller: KubeObject;
  parent: Parent;
}

/** A related-resource rule of a customize response. */
export interface RelatedResourceRule {
  apiVersion: string;
  resource: string;
  namespace?: string;
  names?: string[];
  labelSelector?: { matchLabels?: Record<string, string> };
}

export interface CustomizeResponse {
  relatedResources: RelatedResourceRule[];
}

/**
 * Every object of one kind in a children or related map, whatever the keys say, sorted by
 * namespace then name so that a hook's answer never depends on map order.
 */
export function objectsOfKind<T extends KubeObject>(
  map: ObjectMap,
  apiVersion: string,
  kind: string,
): T[] {
  const found: T[] = [];
  for (const group of Object.values(map)) {
    for (const object of Object.values(group)) {
      if (object.apiVersion === apiVersion && object.kind === kind) {
        found.push(object as T);
      }
    }
  }
  return found.sort(compareObjects);
}

/** Every object in a children map, sorted by kind, namespace and name. */
export function allObjects(map: ObjectMap): KubeObject[] {
  return Object.values(map)
    .flatMap((group) => Object.values(group))
    .sort((a, b) => compareStrings(a.kind, b.kind) || compareObjects(a, b));
}

function compareObjects(a: KubeObject, b: KubeObject): number {
  return (
    compareStrings(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
    compareStrings(a.metadata.name, b.metadata.name)
  );
}

/** Code-point order: unlike localeCompare it does not depend on the process's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
