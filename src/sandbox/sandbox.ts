/**
 * What the three sandbox hooks share: reading a Sandbox's related objects and observed pods, and
 * the pieces of its status.
 */
import type {
  Condition,
  RuntimeEnvironment,
  RuntimeUser,
  Sandbox,
  SandboxProfile,
  SandboxStatus,
  SecurityLevel,
} from "../api/index.js";
import { API_VERSION } from "../api/index.js";
import { ConditionType, Reason, carryCondition, formatTime, type ConditionInput } from "../api/index.js";
import {
  ANNOTATION_CLAIMED_AT,
  ANNOTATION_USE_WARM_POD,
  ANNOTATION_WARM_POD_RUNTIME,
  ANNOTATION_WARM_POD_SECURITY_LEVEL,
  LABEL_COMPONENT,
  LABEL_POOL,
  runtimeName,
} from "../children/index.js";
import { compareStrings, objectsOfKind, type ObjectMap } from "../api/index.js";
import { isPodReady, podReadyCondition, type ObservedPod } from "../api/index.js";
import type { PodFailure } from "../children/index.js";

/** Which SandboxProfiles a Sandbox may use. */
export interface ProfileConfig {
  /**
   * Namespaces whose SandboxProfiles a Sandbox in any namespace may name. A Sandbox may always
   * name a profile in its own namespace; any other is refused, so one tenant cannot borrow
   * another's network rules. @default [] (own namespace only)
   */
  sharedNamespaces: string[];
}

/** The RuntimeEnvironment a Sandbox (or WarmPool) runs on: `python:3.10` → `python-3.10`. */
export function sandboxRuntimeName(owner: RuntimeUser): string {
  return runtimeName(owner.spec.runtime);
}

/** The namespace of the SandboxProfile a Sandbox (or WarmPool) names: its own unless the ref says otherwise. */
export function profileNamespace(owner: RuntimeUser): string {
  return owner.spec.profileRef?.namespace ?? owner.metadata.namespace ?? "";
}

/**
 * Related objects that were sent but do not match our CRDs (say, the cluster still has an older
 * CRD), with what is wrong with each, keyed by {@link relatedKey}. They are left out of the
 * related map, so a hook never reads a malformed object, and reported instead of "not found".
 */
export type RelatedProblems = ReadonlyMap<string, readonly string[]>;

export function relatedKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ""}/${name}`;
}

/** Whether a Sandbox (or WarmPool) may use the profile it names: its own namespace's, or a shared one's. */
export function profileAllowed(owner: RuntimeUser, sharedNamespaces: readonly string[]): boolean {
  const namespace = profileNamespace(owner);
  return namespace === owner.metadata.namespace || sharedNamespaces.includes(namespace);
}

export interface SandboxRelated {
  runtime: RuntimeEnvironment;
  profile?: SandboxProfile;
}

export interface RelatedOptions {
  sharedProfileNamespaces: readonly string[];
  problems: RelatedProblems;
}

/** The related objects a Sandbox (or WarmPool) needs, or why it cannot have them (SPEC §4.2, §6). */
export function findRelated(owner: RuntimeUser, related: ObjectMap, options: RelatedOptions): SandboxRelated | PodFailure {
  const rteName = sandboxRuntimeName(owner);
  const runtime = objectsOfKind<RuntimeEnvironment>(related, API_VERSION, "RuntimeEnvironment").find(
    (r) => r.metadata.name === rteName,
  );
  const runtimeProblems = options.problems.get(relatedKey("RuntimeEnvironment", undefined, rteName));
  if (runtimeProblems !== undefined) return notOurSchema(Reason.RuntimeInvalid, `RuntimeEnvironment "${rteName}"`, runtimeProblems);
  if (runtime === undefined) {
    return {
      reason: Reason.RuntimeNotFound,
      message:
        `RuntimeEnvironment "${rteName}" (from spec.runtime "${owner.spec.runtime}") was not found. ` +
        `Create it, or set spec.runtime to one listed by "kubectl get runtimeenvironments".`,
    };
  }
  const ref = owner.spec.profileRef;
  if (ref === undefined) return { runtime };
  const namespace = profileNamespace(owner);
  if (!profileAllowed(owner, options.sharedProfileNamespaces)) {
    return {
      reason: Reason.ProfileNotAllowed,
      message:
        `SandboxProfile "${namespace}/${ref.name}" is in another namespace, and ${namespace} is not one of the ` +
        `hook server's SHARED_PROFILE_NAMESPACES. Use a profile in ${owner.metadata.namespace ?? ""}, or ask the ` +
        `operator to share ${namespace}.`,
    };
  }
  const profileProblems = options.problems.get(relatedKey("SandboxProfile", namespace, ref.name));
  if (profileProblems !== undefined) return notOurSchema(Reason.ProfileInvalid, `SandboxProfile "${namespace}/${ref.name}"`, profileProblems);
  const profile = objectsOfKind<SandboxProfile>(related, API_VERSION, "SandboxProfile").find(
    (p) => p.metadata.name === ref.name && p.metadata.namespace === namespace,
  );
  if (profile === undefined) {
    return {
      reason: Reason.ProfileNotFound,
      message:
        `SandboxProfile "${namespace}/${ref.name}" (from spec.profileRef) was not found. ` +
        `Create it, or fix spec.profileRef ("kubectl get sandboxprofiles -n ${namespace}").`,
    };
  }
  return { runtime, profile };
}

/** A related object left out because it does not match our CRD: what is wrong, and what to do. */
function notOurSchema(reason: string, object: string, problems: readonly string[]): PodFailure {
  return {
    reason,
    message:
      `${object} does not match this hook server's schema (${problems.join("; ")}). ` +
      `Fix the object, or apply the CRDs that ship with this server (kubectl apply -k crds/).`,
  };
}

/** What a Sandbox asks of the warm pools, from its annotations (kept from the seed). */
export interface WarmRequest {
  runtime: string;
  securityLevel: SecurityLevel;
}

export function warmRequest(sandbox: Sandbox): WarmRequest | undefined {
  const annotations = sandbox.metadata.annotations ?? {};
  if (annotations[ANNOTATION_USE_WARM_POD] !== "true") return undefined;
  const level = annotations[ANNOTATION_WARM_POD_SECURITY_LEVEL];
  return {
    runtime: nonEmpty(annotations[ANNOTATION_WARM_POD_RUNTIME]) ?? sandbox.spec.runtime,
    securityLevel: isSecurityLevel(level) ? level : sandbox.spec.securityLevel,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function isSecurityLevel(value: string | undefined): value is SecurityLevel {
  return value === "standard" || value === "high" || value === "custom";
}

/**
 * The one pod that serves a Sandbox, when more than one is observed: the one its status names,
 * else a Ready one, else the oldest. The choice must not depend on map order.
 */
export function servingPod(pods: readonly ObservedPod[], status: SandboxStatus | undefined): ObservedPod | undefined {
  const named = pods.find((p) => p.metadata.name === status?.podName);
  if (named !== undefined) return named;
  const ready = pods.find(isPodReady);
  if (ready !== undefined) return ready;
  return [...pods].sort(
    (a, b) =>
      compareStrings(a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? "") ||
      compareStrings(a.metadata.name, b.metadata.name),
  )[0];
}

/** The pool a pod came from, when it is a claimed warm pod. */
export function warmPoolOf(pod: ObservedPod | undefined): string | undefined {
  if (pod?.metadata.labels?.[LABEL_COMPONENT] !== "warmpod") return undefined;
  return pod.metadata.labels[LABEL_POOL];
}

/**
 * When a run of the Sandbox started: carried over from its status once set; the first time, the
 * moment its pod became Ready, as the pod reports it (observed, so the answer is the same on
 * every sync), or `now` if the pod does not say. A warm pod was Ready in its pool long before a
 * Sandbox claimed it: its Sandbox starts Running when the claim landed (`claimed-at`), not before
 * — and never later than now, whatever the annotation says.
 */
export function startTimeOf(carried: string | undefined, pod: ObservedPod | undefined, now: Date): string | undefined {
  if (carried !== undefined) return carried;
  if (pod === undefined || !isPodReady(pod)) return undefined;
  const ready = Date.parse(podReadyCondition(pod)?.lastTransitionTime ?? "");
  let started = Number.isNaN(ready) ? now.getTime() : ready;
  const claimed = claimedAt(pod);
  if (!Number.isNaN(claimed)) started = Math.max(started, Math.min(claimed, now.getTime()));
  return formatTime(new Date(started));
}

/** When a warm pod was claimed, in ms; NaN for a pod that is no warm pod or does not say. */
function claimedAt(pod: ObservedPod): number {
  return warmPoolOf(pod) === undefined ? Number.NaN : Date.parse(pod.metadata.annotations?.[ANNOTATION_CLAIMED_AT] ?? "");
}

/**
 * When a pod began to serve its Sandbox, in ms (NaN if unknown): its creation, or for a warm pod
 * its claim (it was created long before, for its pool).
 */
export function servingSince(pod: ObservedPod): number {
  const created = Date.parse(pod.metadata.creationTimestamp ?? "");
  const claimed = claimedAt(pod);
  return Number.isNaN(claimed) ? created : Math.max(claimed, Number.isNaN(created) ? claimed : created);
}

/** When a resumed Sandbox was resumed: its Suspended condition's turn to False, as its status says. */
export function resumedAt(status: SandboxStatus | undefined): string | undefined {
  const suspended = status?.conditions?.find((c) => c.type === ConditionType.Suspended);
  return suspended?.status === "False" ? suspended.lastTransitionTime : undefined;
}

/** Seconds of lifetime left; zero or less once the timeout has passed. */
export function secondsLeft(startTime: string | undefined, timeoutSeconds: number, now: Date): number | undefined {
  if (startTime === undefined) return undefined;
  const started = Date.parse(startTime);
  if (Number.isNaN(started)) return undefined;
  return (started + timeoutSeconds * 1000 - now.getTime()) / 1000;
}

/** Conditions in a fixed order, each with `lastTransitionTime` carried over unless it flipped. */
export function conditionsOf(
  previous: SandboxStatus | undefined,
  inputs: readonly (ConditionInput | undefined)[],
  now: Date,
): Condition[] {
  return inputs
    .filter((input): input is ConditionInput => input !== undefined)
    .map((input) => carryCondition(previous?.conditions, input, now));
}

/** The previous condition of a type, as an input to carry unchanged. */
export function previousCondition(status: SandboxStatus | undefined, type: string): ConditionInput | undefined {
  const old = status?.conditions?.find((c) => c.type === type);
  return old === undefined ? undefined : { type: old.type, status: old.status, reason: old.reason, message: old.message };
}

export const readyCondition = (status: "True" | "False", reason: string, message: string): ConditionInput => ({
  type: ConditionType.Ready,
  status,
  reason,
  message,
});
