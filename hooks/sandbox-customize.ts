/**
 * POST /sandbox/customize — which related objects Metacontroller sends with each sync
 * (SPEC §4.1): the RuntimeEnvironment named by the Sandbox, the SandboxProfile it refers to, and
 * its own Namespace (a namespace being deleted takes no new object).
 * Depends on the spec only, as Metacontroller caches the answer per parent generation.
 * https://metacontroller.github.io/metacontroller/api/customize.html
 */
import type { RuntimeUser } from "../src/api/index.js";
import { API_VERSION } from "../src/api/index.js";
import type { ProfileConfig } from "../src/sandbox/index.js";
import type { CustomizeRequest, CustomizeResponse, RelatedResourceRule } from "../src/api/index.js";
import { profileAllowed, profileNamespace, sandboxRuntimeName } from "../src/sandbox/index.js";

export interface SandboxCustomizeDeps {
  config: { profile: ProfileConfig };
}

/** Also the first rules of a WarmPool's answer: a pool finds its runtime and profile as a Sandbox does. */
export function sandboxCustomize(request: CustomizeRequest<RuntimeUser>, deps: SandboxCustomizeDeps): CustomizeResponse {
  const sandbox = request.parent;
  const relatedResources: RelatedResourceRule[] = [
    // Cluster-scoped: a namespaced parent sees it only with hooks version v2.
    { apiVersion: API_VERSION, resource: "runtimeenvironments", names: [sandboxRuntimeName(sandbox)] },
    // Its own namespace: once that is being deleted, the sync hooks ask for nothing new there.
    { apiVersion: "v1", resource: "namespaces", names: [sandbox.metadata.namespace ?? ""] },
  ];
  const ref = sandbox.spec.profileRef;
  // A profile the Sandbox may not use is not even fetched; sync reports ProfileNotAllowed.
  if (ref !== undefined && profileAllowed(sandbox, deps.config.profile.sharedNamespaces)) {
    relatedResources.push({
      apiVersion: API_VERSION,
      resource: "sandboxprofiles",
      namespace: profileNamespace(sandbox),
      names: [ref.name],
    });
  }
  return { relatedResources };
}
