/**
 * Reading observed children: what Metacontroller sends back of the objects that exist.
 */
import type { KubeObject } from "./metacontroller.js";

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
 * Annotations that belong to the machinery that applied the object, not to us: returning them
 * would make a hook answer depend on how the object was last written.
 */
const FOREIGN_ANNOTATION = /^(metacontroller\.k8s\.io\/|kubectl\.kubernetes\.io\/last-applied-configuration$)/;

/**
 * An observed object as a desired child: same name, labels, annotations and body, without the
 * fields the server owns (uid, resourceVersion, managedFields, ownerReferences, status…).
 * Returning it keeps the object as it is; leaving it out would delete it.
 */
export function keepObserved(object: KubeObject): KubeObject {
  const { metadata, ...body } = object as KubeObject & Record<string, unknown>;
  delete body.status;
  const annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).filter(([key]) => !FOREIGN_ANNOTATION.test(key)),
  );
  return {
    ...body,
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: metadata.name,
      ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
      ...(metadata.labels !== undefined ? { labels: { ...metadata.labels } } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
  };
}

/** The Pod's `Ready` condition, when it has one. */
export function podReadyCondition(pod: ObservedPod): { status: string; lastTransitionTime?: string } | undefined {
  return pod.status?.conditions?.find((c) => c.type === "Ready");
}

export function isPodReady(pod: ObservedPod): boolean {
  return pod.status?.phase === "Running" && podReadyCondition(pod)?.status === "True";
}
