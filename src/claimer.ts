/**
 * The warm-pod claimer as the sandbox sync hook sees it (SPEC §6). The hook receives one as a
 * parameter; the implementation that talks to the Kubernetes API lives beside this file, and
 * {@link disabledClaimer} stands in when there is no cluster to talk to.
 */
import type { Sandbox, SecurityLevel } from "./api-types.js";
import { Reason } from "./conditions.js";
import type { KubeObject } from "./metacontroller.js";

export interface ClaimRequest {
  sandbox: Sandbox;
  /** The runtime to match (the Sandbox's, or the warm-pod-runtime annotation). */
  runtime: string;
  /** The exact level to match: a warm pod of another level is never taken. */
  securityLevel: SecurityLevel;
}

export type ClaimResult =
  | {
      outcome: "claimed";
      /** The claimed Pod, as the sync hook should return it. */
      pod: KubeObject;
      pool: string;
    }
  | {
      outcome: "cold";
      /** A `WarmPodClaimed` reason: why the Sandbox gets a cold pod. */
      reason: string;
      message: string;
    };

export interface WarmPodClaimer {
  claim(request: ClaimRequest): Promise<ClaimResult>;
}

/** The claimer of a server with no Kubernetes configuration: every Sandbox starts cold. */
export const disabledClaimer: WarmPodClaimer = {
  claim: () =>
    Promise.resolve({
      outcome: "cold",
      reason: Reason.ClaimingDisabled,
      message: "Warm-pod claiming is disabled on this hook server (it has no Kubernetes API access); started a cold pod.",
    }),
};
