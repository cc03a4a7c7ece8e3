/**
 * Label keys, annotation keys and child names (SPEC §3). One place, so a selector and the
 * label it selects can never drift apart.
 */
import { createHash } from "node:crypto";

export const LABEL_APP = "app";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_COMPONENT = "component";
export const LABEL_SANDBOX_ID = "sandbox-id";
export const LABEL_SANDBOX_UID = "sandbox-uid";
export const LABEL_POOL = "pool";
export const LABEL_RUNTIME = "runtime";
export const LABEL_SECURITY_LEVEL = "security-level";
export const LABEL_WARM_STATE = "llmsafespace.dev/warm-state";
export const LABEL_CLAIMED_BY = "llmsafespace.dev/claimed-by";

export const APP = "llmsafespace";
export const MANAGED_BY = "llmsafespace-hooks";

export const ANNOTATION_USE_WARM_POD = "llmsafespace.dev/use-warm-pod";
export const ANNOTATION_WARM_POD_RUNTIME = "llmsafespace.dev/warm-pod-runtime";
export const ANNOTATION_WARM_POD_SECURITY_LEVEL = "llmsafespace.dev/warm-pod-security-level";
export const ANNOTATION_ALLOWED_DOMAINS = "llmsafespace.dev/allowed-domains";
export const ANNOTATION_CPU_PINNING = "cpu-pinning.llmsafespace.dev/enabled";
export const ANNOTATION_CLAIMED_AT = "llmsafespace.dev/claimed-at";
/** On a Sandbox: when whatever talks to it last saw it used (RFC 3339); idle time counts from here. */
export const ANNOTATION_LAST_ACTIVITY = "llmsafespace.dev/last-activity";
/**
 * On every warm pod, so that its `annotations` map exists: a JSON patch that adds
 * `/metadata/annotations/<key>` (as the claim does) fails when the map itself is missing.
 */
export const ANNOTATION_WARM_POD = "llmsafespace.dev/warm-pod";

/** `llmsafespace.dev/warm-state`: where a warm pod is in its life (SPEC §2 "No WarmPod kind"). */
export const WarmState = {
  /** Waiting to be claimed (Ready or still starting). */
  Available: "available",
  /** Taken by a Sandbox; it belongs to the Sandbox now. */
  Claimed: "claimed",
  /** Given up by its pool, which deletes it once it sees this state. */
  Retiring: "retiring",
} as const;

export const COMPONENT_WARM_POD = "warmpod";
export const COMPONENT_WARM_POOL = "warmpool";

/** Kubernetes caps label values and DNS-1123 labels (Service names) at 63 characters. */
const MAX_NAME = 63;
const HASH_LENGTH = 8;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * A DNS-1123 label (≤ 63 characters, `[a-z0-9-]`, alphanumeric at both ends) made from `parts`
 * joined by `-`. When the joined name is too long or holds characters a label may not (a Sandbox
 * name may contain `.`), it is cut and given a stable hash suffix of the *whole* name, so two
 * different inputs never share a result and the same input always gives the same one.
 */
export function dnsLabel(...parts: string[]): string {
  const full = parts.join("-");
  if (full.length <= MAX_NAME && DNS_LABEL.test(full)) return full;
  const clean = full.replace(/[^a-z0-9-]/g, "-");
  const hash = createHash("sha256").update(full).digest("hex").slice(0, HASH_LENGTH);
  const head = clean
    .slice(0, MAX_NAME - HASH_LENGTH - 1)
    .replace(/^-+/, "")
    .replace(/-+$/, "");
  return head === "" ? hash : `${head}-${hash}`;
}

/** The name of a Sandbox's child: `sandbox-<name>` or `sandbox-<name>-<purpose>` (SPEC §3). */
export function sandboxChildName(sandboxName: string, ...purpose: string[]): string {
  return dnsLabel("sandbox", sandboxName, ...purpose);
}

// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * A label value for a name that may not fit one (SPEC §3): kept as it is when it is a valid
 * label value (dots included, so `python-3.10` stays readable), else cut to 63 characters with a
 * stable hash suffix of the whole name, as {@link dnsLabel} does.
 */
export function labelValue(name: string): string {
  if (name.length <= MAX_NAME && LABEL_VALUE.test(name)) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, HASH_LENGTH);
  const head = name
    .replace(/[^-A-Za-z0-9_.]/g, "-")
    .slice(0, MAX_NAME - HASH_LENGTH - 1)
    .replace(/^[^A-Za-z0-9]+/, "")
    .replace(/[^A-Za-z0-9]+$/, "");
  return head === "" ? hash : `${head}-${hash}`;
}

/** `python:3.10` → `python-3.10`: the RuntimeEnvironment name and the `runtime` label. */
export function runtimeName(runtime: string): string {
  return runtime.replaceAll(":", "-");
}

/** The name of a WarmPool's child: `warmpool-<pool>` or `warmpool-<pool>-<purpose>` (SPEC §6). */
export function warmPoolChildName(poolName: string, ...purpose: string[]): string {
  return dnsLabel("warmpool", poolName, ...purpose);
}

/** The `runtime` label of a warm pod: `python:3.10` → the label-value-safe form of `python-3.10`. */
export function runtimeLabel(runtime: string): string {
  return labelValue(runtimeName(runtime));
}

// Every child of ours carries LABEL_APP and LABEL_MANAGED_BY first. The builders below write
// them out in one object literal rather than spread a shared object and add keys after it, a
// slow path in V8 that showed in the profile of a pool's sync (docs/PERFORMANCE.md).

/** The labels that tie a child to its Sandbox; Services and NetworkPolicies select on `sandbox-id`. */
export function sandboxLabels(sandbox: { name: string; uid: string }): Record<string, string> {
  return {
    [LABEL_APP]: APP,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_COMPONENT]: "sandbox",
    [LABEL_SANDBOX_ID]: labelValue(sandbox.name),
    [LABEL_SANDBOX_UID]: sandbox.uid,
  };
}

/** The selector of every Service and NetworkPolicy of a Sandbox: it also matches a claimed warm pod. */
export function sandboxSelector(sandboxName: string): Record<string, string> {
  return { [LABEL_SANDBOX_ID]: labelValue(sandboxName) };
}

/** The labels of a WarmPool's ServiceAccount and NetworkPolicy. */
export function warmPoolLabels(poolName: string): Record<string, string> {
  return { [LABEL_APP]: APP, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_COMPONENT]: COMPONENT_WARM_POOL, [LABEL_POOL]: labelValue(poolName) };
}

/** The labels of a new warm pod (SPEC §3); the claim later adds the Sandbox's. */
export function warmPodLabels(pool: { name: string; runtime: string; securityLevel: string }): Record<string, string> {
  return {
    [LABEL_APP]: APP,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_COMPONENT]: COMPONENT_WARM_POD,
    [LABEL_POOL]: labelValue(pool.name),
    [LABEL_RUNTIME]: runtimeLabel(pool.runtime),
    [LABEL_SECURITY_LEVEL]: pool.securityLevel,
    [LABEL_WARM_STATE]: WarmState.Available,
  };
}

/**
 * Every pod a pool started, in any state: the pool's deny-all NetworkPolicy selects these. A
 * claimed pod keeps both labels, and its Sandbox's allow policies add to the deny.
 */
export function warmPodSelector(poolName: string): Record<string, string> {
  return { [LABEL_POOL]: labelValue(poolName), [LABEL_COMPONENT]: COMPONENT_WARM_POD };
}

/** The pool's pods that Sandboxes have claimed: no longer its children, but they count and keep their names. */
export function claimedWarmPodSelector(poolName: string): Record<string, string> {
  return { [LABEL_POOL]: labelValue(poolName), [LABEL_WARM_STATE]: WarmState.Claimed };
}
