/** The Service in front of a sandbox pod (SPEC §4.3). */
import type { V1Service } from "@kubernetes/client-node";
import type { ChildMetadata } from "../api/index.js";
import { SANDBOX_PORT_NAME } from "./pod.js";

export interface ServiceInput {
  metadata: ChildMetadata;
  /** Pod labels to route to; for a sandbox, `sandbox-id` alone, so a claimed warm pod is covered. */
  selector: Record<string, string>;
}

/** A ClusterIP Service: port 80 → the pod's named `http` port (8080). */
export function sandboxService(input: ServiceInput): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: input.metadata,
    spec: {
      type: "ClusterIP",
      selector: input.selector,
      ports: [{ name: "http", port: 80, targetPort: SANDBOX_PORT_NAME, protocol: "TCP" }],
    },
  };
}

/** The in-cluster DNS name of a Service: what a Sandbox reports as its `endpoint`. */
export function serviceEndpoint(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}
