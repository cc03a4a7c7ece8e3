/**
 * Whether a claimed warm pod may go back to its pool when its Sandbox is deleted (SPEC §7).
 *
 * The pod ran untrusted code, so the default is never: it is deleted. Only a pool that enables
 * recycling gets a pod back, and only when every check of the seed's `shouldRecyclePod` passes.
 */
import type { WarmPool } from "../api/index.js";
import type { ObservedPod } from "../api/index.js";

export const ANNOTATION_RECYCLE_COUNT = "llmsafespace.dev/recycle-count";
export const ANNOTATION_INSTALLED_PACKAGES = "llmsafespace.dev/installed-packages";

/** Annotations a runtime or a node agent sets when it saw the sandbox misbehave. */
export const SECURITY_EVENT_ANNOTATIONS = [
  "llmsafespace.dev/security-event",
  "llmsafespace.dev/seccomp-violation",
  "llmsafespace.dev/apparmor-violation",
  "llmsafespace.dev/capability-violation",
  "llmsafespace.dev/syscall-violation",
  "llmsafespace.dev/network-violation",
  "llmsafespace.dev/modified-system-files",
] as const;

const USAGE_ANNOTATIONS = ["cpu", "memory", "disk"].map((resource) => `llmsafespace.dev/max-${resource}-usage`);
const MAX_USAGE = 0.9;

/** Why a pod was (not) recycled; the label value of the recycle-decision metric. */
export type RecycleReason =
  | "recycled"
  | "disabled"
  | "pool_missing"
  | "pool_full"
  | "too_old"
  | "too_young"
  | "recycle_limit"
  | "security_event"
  | "package_not_allowed"
  | "usage_too_high"
  | "wipe_failed"
  | "conflict"
  | "error";

export interface RecycleDecision {
  recycle: boolean;
  reason: RecycleReason;
  message: string;
}

const no = (reason: RecycleReason, message: string): RecycleDecision => ({ recycle: false, reason, message });

/** The checks of SPEC §7, in order; the first that fails decides. */
export function recycleDecision(pod: ObservedPod, pool: WarmPool | undefined, now: Date): RecycleDecision {
  if (pool === undefined) return no("pool_missing", "the pod's WarmPool no longer exists");
  const policy = pool.spec.recycle;
  if (!policy.enabled) return no("disabled", `WarmPool ${pool.metadata.name} does not recycle pods (spec.recycle.enabled)`);
  const available = pool.status?.availablePods ?? 0;
  if (available >= pool.spec.minSize) return no("pool_full", `WarmPool ${pool.metadata.name} already has ${available} of ${pool.spec.minSize} pods available`);

  const created = Date.parse(pod.metadata.creationTimestamp ?? "");
  const age = Number.isNaN(created) ? Infinity : (now.getTime() - created) / 1000;
  if (age >= policy.maxPodAge) return no("too_old", `the pod is ${Math.round(age)}s old; recycle.maxPodAge is ${policy.maxPodAge}s`);
  if (age < policy.minRuntimeBeforeRecycle) {
    return no("too_young", `the pod is ${Math.round(age)}s old; recycle.minRuntimeBeforeRecycle is ${policy.minRuntimeBeforeRecycle}s`);
  }

  const annotations = pod.metadata.annotations ?? {};
  const count = Number(annotations[ANNOTATION_RECYCLE_COUNT] ?? "0");
  if (!Number.isInteger(count) || count >= policy.maxRecycleCount) {
    return no("recycle_limit", `the pod was recycled ${annotations[ANNOTATION_RECYCLE_COUNT] ?? "0"} times; recycle.maxRecycleCount is ${policy.maxRecycleCount}`);
  }

  const securityCondition = pod.status?.conditions?.find((c) => c.type.startsWith("Security"));
  if (securityCondition !== undefined) return no("security_event", `the pod has condition ${securityCondition.type}`);
  const securityAnnotation = SECURITY_EVENT_ANNOTATIONS.find((key) => key in annotations);
  if (securityAnnotation !== undefined) return no("security_event", `the pod carries ${securityAnnotation}`);

  const allowed = new Set(pool.spec.preloadPackages ?? []);
  const installed = (annotations[ANNOTATION_INSTALLED_PACKAGES] ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const foreign = installed.find((name) => !allowed.has(name));
  if (foreign !== undefined) return no("package_not_allowed", `the sandbox installed ${foreign}, which the pool does not preload`);

  for (const key of USAGE_ANNOTATIONS) {
    const usage = annotations[key];
    if (usage === undefined) continue;
    const value = Number(usage);
    if (!Number.isFinite(value) || value > MAX_USAGE) return no("usage_too_high", `${key} is ${usage}; at most ${MAX_USAGE} is recycled`);
  }
  return { recycle: true, reason: "recycled", message: "every check passed" };
}
