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

/**
 * How a warm pool gives up a pod (SPEC §6, retire before drop): a conditional flip from
 * `warm-state=available` to `retiring`. Only a pod it then observes as retiring is dropped, so a
 * pod a Sandbox claimed in the meantime is never deleted from under it.
 */
export type RetireResult =
  /** The pod is now `retiring`. */
  | "retired"
  /** The pod is no longer `available` (claimed, retiring, or gone): leave it be. */
  | "not-available"
  /** The API could not be asked; try again on a later sync. */
  | "error";

export interface WarmPodRetirer {
  retire(pod: { name: string; namespace: string }): Promise<RetireResult>;
}

/** The retirer of a server with no Kubernetes configuration: pools never give a pod up. */
export const disabledRetirer: WarmPodRetirer = {
  retire: () => Promise.resolve("error"),
};
