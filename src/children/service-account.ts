/** The ServiceAccount a sandbox (or a warm pool) runs as (SPEC §4.3, §6). */
import type { V1ServiceAccount } from "@kubernetes/client-node";
import type { ChildMetadata } from "../api/index.js";

/**
 * An identity of its own with no token mounted: untrusted code gets no credential for the API,
 * and no RoleBinding ever names this account.
 */
export function serviceAccount(metadata: ChildMetadata): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata,
    automountServiceAccountToken: false,
  };
}
