/**
 * POST /warmpool/customize — which related objects Metacontroller sends with each pool sync
 * (SPEC §6): the RuntimeEnvironment and SandboxProfile the pool's pods are built from, as for a
 * Sandbox, and the pods Sandboxes have claimed from the pool. A claim hands a pod to its Sandbox,
 * so it is no longer the pool's child; the pool still counts it as assigned and must not give its
 * name to a new pod while it exists.
 * https://metacontroller.github.io/metacontroller/api/customize.html
 */
import type { WarmPool } from "../src/api/index.js";
import { claimedWarmPodSelector } from "../src/children/index.js";
import type { CustomizeRequest, CustomizeResponse } from "../src/api/index.js";
import { sandboxCustomize, type SandboxCustomizeDeps } from "./sandbox-customize.js";

export type WarmPoolCustomizeDeps = SandboxCustomizeDeps;

export function warmPoolCustomize(request: CustomizeRequest<WarmPool>, deps: WarmPoolCustomizeDeps): CustomizeResponse {
  const pool = request.parent;
  const { relatedResources } = sandboxCustomize(request, deps);
  relatedResources.push({
    apiVersion: "v1",
    resource: "pods",
    namespace: pool.metadata.namespace ?? "",
    labelSelector: { matchLabels: claimedWarmPodSelector(pool.metadata.name) },
  });
  return { relatedResources };
}
