/** The ServiceAccount a sandbox (or a warm pool) runs as (SPEC §4.3, §6). */
import type { V1ServiceAccount } from "@kubernetes/client-node";

export interface ServiceAccountInput {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

/**
 * An identity of its own with no token mounted: untrusted code gets no credential for the API,
 * and no RoleBinding ever names this account.
 */
export function serviceAccount(input: ServiceAccountInput): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels },
    automountServiceAccountToken: false,
  };
}
