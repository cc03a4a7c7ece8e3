/**
 * Reading observed children: what Metacontroller sends back of the objects that exist.
 */
import { allObjects, objectsOfKind, type KubeObject, type ObjectMap } from "./metacontroller.js";

/** The parts of an observed Pod the hooks read (validated at the edge). */
export interface ObservedPod extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

/**
 * Whether an annotation belongs to the machinery that applied the object, not to us
 * (`metacontroller.k8s.io/…`, kubectl's last-applied-configuration): returning it would make a
 * hook answer depend on how the object was last written.
 */
function isForeignAnnotation(key: string): boolean {
  return key.startsWith("metacontroller.k8s.io/") || key === "kubectl.kubernetes.io/last-applied-configuration";
}

/**
 * An observed object as a desired child: same name, labels, annotations and body, without the
 * fields the server owns (uid, resourceVersion, managedFields, ownerReferences, status…).
 * Returning it keeps the object as it is; leaving it out would delete it.
 */
export function keepObserved(object: KubeObject): KubeObject {
  const { metadata } = object;
  const source = object as unknown as Record<string, unknown>;
  // Key by key rather than `{ ...body, metadata }`, which V8 makes slow (a key added after a
  // spread), and a pool keeps thousands of pods: the object's keys in order but `status`, then
  // `metadata` last.
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (key !== "metadata" && key !== "status") kept[key] = source[key];
  }
  kept.apiVersion = object.apiVersion;
  kept.kind = object.kind;
  let annotations: Record<string, string> | undefined;
  if (metadata.annotations !== undefined) {
    for (const key of Object.keys(metadata.annotations)) {
      if (isForeignAnnotation(key)) continue;
      (annotations ??= {})[key] = metadata.annotations[key] as string;
    }
  }
  const keptMetadata: Record<string, unknown> = { name: metadata.name };
  if (metadata.namespace !== undefined) keptMetadata.namespace = metadata.namespace;
  if (metadata.labels !== undefined) keptMetadata.labels = Object.assign({}, metadata.labels);
  if (annotations !== undefined) keptMetadata.annotations = annotations;
  kept.metadata = keptMetadata;
  return kept as unknown as KubeObject;
}

/** The Pod's `Ready` condition, when it has one. */
export function podReadyCondition(pod: ObservedPod): { status: string; lastTransitionTime?: string } | undefined {
  return pod.status?.conditions?.find((c) => c.type === "Ready");
}

export function isPodReady(pod: ObservedPod): boolean {
  return pod.status?.phase === "Running" && podReadyCondition(pod)?.status === "True";
}

/**
 * Whether the ServiceAccount a new pod would name is among the observed children. A new pod is
 * sent only once it is: Metacontroller creates children kind by kind in sorted order, so a Pod
 * goes before its ServiceAccount, and the ServiceAccount admission plugin (on in every cluster)
 * refuses a Pod whose ServiceAccount does not exist yet. Metacontroller then retries the whole
 * sync after a backoff; waiting for the sync that observes the ServiceAccount costs one round
 * trip instead.
 */
export function serviceAccountObserved(children: ObjectMap, namespace: string, name: string): boolean {
  return objectsOfKind(children, "v1", "ServiceAccount").some(
    (account) => account.metadata.name === name && (account.metadata.namespace ?? namespace) === namespace,
  );
}

/**
 * Whether the parent's own Namespace (a related object its customize hook asks for) is being
 * deleted. The API server then refuses every new object in it (NamespaceLifecycle admission)
 * while the namespace controller deletes what is there, so a sync hook asks for nothing new:
 * Metacontroller would log each refusal as an error and retry until the namespace is gone.
 */
export function namespaceTerminating(related: ObjectMap, namespace: string): boolean {
  const found = objectsOfKind<KubeObject & { status?: { phase?: string } }>(related, "v1", "Namespace").find(
    (object) => object.metadata.name === namespace,
  );
  return found !== undefined && (found.metadata.deletionTimestamp !== undefined || found.status?.phase === "Terminating");
}

/** The desired children that are observed already: what may still be asked for in a namespace being deleted. */
export function observedOnly(desired: readonly KubeObject[], children: ObjectMap): KubeObject[] {
  const observed = new Set(allObjects(children).map(objectKey));
  return desired.filter((child) => observed.has(objectKey(child)));
}

/** An object's identity among children: apiVersion, kind, namespace and name. */
export function objectKey(object: KubeObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}
