/**
 * Condition types and reasons (PascalCase, as Kubernetes API conventions ask), and the one rule
 * for carrying a condition over from the parent's current status.
 */
import type { Condition, ConditionStatus } from "./api-types.js";

export const ConditionType = {
  Ready: "Ready",
  WarmPodClaimed: "WarmPodClaimed",
  EgressDomainsEnforced: "EgressDomainsEnforced",
  Expired: "Expired",
  Suspended: "Suspended",
  Idle: "Idle",
  // WarmPool, only while something is wrong (as a Deployment's ReplicaFailure)
  RetireFailure: "RetireFailure",
  SizeConflict: "SizeConflict",
} as const;

export const Reason = {
  // Ready
  PodRunning: "PodRunning",
  PodNotReady: "PodNotReady",
  PodPending: "PodPending",
  PodFailed: "PodFailed",
  PodCompleted: "PodCompleted",
  RuntimeNotFound: "RuntimeNotFound",
  RuntimeInvalid: "RuntimeInvalid",
  ProfileNotFound: "ProfileNotFound",
  ProfileInvalid: "ProfileInvalid",
  ProfileNotAllowed: "ProfileNotAllowed",
  RuntimeNotSupported: "RuntimeNotSupported",
  SeccompProfileRequired: "SeccompProfileRequired",
  SeccompProfileNotAllowed: "SeccompProfileNotAllowed",
  EgressRuleInvalid: "EgressRuleInvalid",
  Terminating: "Terminating",
  // Ready of a WarmPool
  PodsAvailable: "PodsAvailable",
  Scaling: "Scaling",
  // RetireFailure
  RetireFailed: "RetireFailed",
  // SizeConflict
  MaxSizeBelowMinSize: "MaxSizeBelowMinSize",
  // WarmPodClaimed
  Claimed: "Claimed",
  ClaimingDisabled: "ClaimingDisabled",
  WarmPodIncompatible: "WarmPodIncompatible",
  NoWarmPodAvailable: "NoWarmPodAvailable",
  ClaimError: "ClaimError",
  // EgressDomainsEnforced
  NetworkPolicyCannotMatchDomains: "NetworkPolicyCannotMatchDomains",
  EnforcedByFqdnPolicy: "EnforcedByFqdnPolicy",
  // Expired
  WithinTimeout: "WithinTimeout",
  TimeoutExceeded: "TimeoutExceeded",
  IdleTimeoutExceeded: "IdleTimeoutExceeded",
  // Suspended (True: Requested or Idle; False: Resumed)
  Requested: "Requested",
  Idle: "Idle",
  Resumed: "Resumed",
  // Ready while suspended, or waiting for a suspended pod to go
  Suspended: "Suspended",
  PreviousPodTerminating: "PreviousPodTerminating",
  // Idle
  Active: "Active",
  LastActivityInvalid: "LastActivityInvalid",
} as const;

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * The condition to report, keeping the previous `lastTransitionTime` unless the status flipped,
 * as apimachinery's `meta.SetStatusCondition` does. A fresh timestamp on every sync would make
 * the status differ each time and Metacontroller would write it forever.
 */
export function carryCondition(previous: readonly Condition[] | undefined, next: ConditionInput, now: Date): Condition {
  const old = previous?.find((c) => c.type === next.type);
  const lastTransitionTime =
    old !== undefined && old.status === next.status ? old.lastTransitionTime : formatTime(now);
  // Field by field rather than `{ ...next, lastTransitionTime }`: every condition gets one shape,
  // without V8's slow path for a key added after a spread.
  return { type: next.type, status: next.status, reason: next.reason, message: next.message, lastTransitionTime };
}

/** RFC 3339 with second precision, the form metav1.Time serialises to. */
export function formatTime(time: Date): string {
  // The text of the last second formatted: every sync formats `now` a few times, and syncs
  // come many to the second (toISOString is one of the dearer calls of a Sandbox's sync).
  const second = Math.floor(time.getTime() / 1000);
  if (second !== formatted.second) {
    // toISOString always ends in `.sssZ` (and throws for an invalid date, as before).
    formatted.text = `${time.toISOString().slice(0, -5)}Z`;
    formatted.second = second;
  }
  return formatted.text;
}

const formatted = { second: NaN, text: "" };
