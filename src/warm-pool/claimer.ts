/**
 * The warm-pod claimer as the sandbox sync hook sees it (SPEC §6). The hook receives one as a
 * parameter; the implementation that talks to the Kubernetes API lives beside this file, and
 * {@link disabledClaimer} stands in when there is no cluster to talk to.
 */
import type { Sandbox, SecurityLevel } from "../api/index.js";
import { Reason } from "../api/index.js";
import type { KubeObject } from "../api/index.js";
import type { ObservedPod } from "../api/index.js";
import type { RecycleDecision } from "./recycle.js";

export interface ClaimRequest {
  sandbox: Sandbox;
  /** The runtime to match (the Sandbox's, or the warm-pod-runtime annotation). */
  runtime: string;
  /** The exact level to match: a warm pod of another level is never taken. */
  securityLevel: SecurityLevel;
  /** The pod a cold start would create: a warm pod must match it where isolation and size are decided. */
  coldPod: KubeObject;
}

export type ClaimResult =
  | {
      outcome: "claimed";
      /** The claimed Pod, as the sync hook should return it. */
      pod: KubeObject;
      /**
       * The claimed Pod as the API server answered the claim, status included: observed state,
       * so the claiming sync already reports a pod that was Ready as Running.
       */
      observed: ObservedPod;
      pool: string;
    }
  | {
      outcome: "cold";
      /** A `WarmPodClaimed` reason: why the Sandbox gets a cold pod. */
      reason: string;
      message: string;
    };

/** What became of a claim a Sandbox no longer needs. */
export type ReleaseResult = "released" | "not-ours" | "error";

export interface WarmPodClaimer {
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Gives a claimed pod back to its pool (claim step 5: a Sandbox that already has a pod and
   * finds a second, claimed one lets the extra go). Conditional on the claim still being ours.
   */
  release(pod: { name: string; namespace: string }, sandboxUid: string): Promise<ReleaseResult>;
}

/** The claimer of a server with no Kubernetes configuration: every Sandbox starts cold. */
export const disabledClaimer: WarmPodClaimer = {
  claim: () =>
    Promise.resolve({
      outcome: "cold",
      reason: Reason.ClaimingDisabled,
      message: "Warm-pod claiming is disabled on this hook server (it has no Kubernetes API access); it starts a cold pod.",
    }),
  release: () => Promise.resolve("error"),
};

/**
 * What becomes of a claimed warm pod when its Sandbox is deleted (SPEC §7): recycled into its
 * pool when every check passes and the wipe worked, else deleted with the Sandbox's other
 * children. `conflict` means the pod is no longer this Sandbox's (a recycle already happened).
 */
export interface WarmPodRecycler {
  recycle(pod: ObservedPod, sandboxUid: string): Promise<RecycleDecision>;
}

/** A server with no Kubernetes access deletes every claimed pod, as the default asks. */
export const noRecycling: WarmPodRecycler = {
  recycle: () =>
    Promise.resolve({ recycle: false, reason: "disabled", message: "this hook server has no Kubernetes API access" }),
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

/** The seed's allocation results, kept as metric label values. */
export type AllocationResult = "error" | "no_matching_pools" | "no_available_pods" | "no_ready_pods" | "success";

/** A claim's API calls (SPEC §6): the own-claim lookup, a listing of candidates, a claim patch. */
export type ClaimStep = "own_claim" | "list" | "patch";

export interface ClaimObserver {
  claimFinished(runtime: string, securityLevel: string, result: AllocationResult, seconds: number): void;
  claimConflict(): void;
  /** One API call of a claim took `seconds` (a failed one too). */
  claimStep?(step: ClaimStep, seconds: number): void;
}
