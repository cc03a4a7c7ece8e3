/**
 * What a WarmPool's sync and finalize hooks share (SPEC §6): reading the pool's pods, sizing the
 * pool, naming and building warm pods and the pool's other children, giving pods up through the
 * retirer, and the pieces of the pool's status.
 */
import { createHash } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import type { WarmPool, WarmPoolSpec, WarmPoolStatus } from "../api/index.js";
import type { WarmPodRetirer } from "./claimer.js";
import { ConditionType, Reason, carryCondition, formatTime, type ConditionInput } from "../api/index.js";
import {
  ANNOTATION_WARM_POD,
  LABEL_POOL,
  LABEL_WARM_STATE,
  WarmState,
  dnsLabel,
  labelValue,
  warmPodLabels,
  warmPodSelector,
  warmPoolChildName,
  warmPoolLabels,
} from "../children/index.js";
import { compareStrings, objectsOfKind, type KubeObject, type ObjectMap } from "../api/index.js";
import type { NetworkPolicy } from "../children/index.js";
import { isPodReady, keepObserved, namespaceTerminating, observedOnly, type ObservedPod } from "../api/index.js";
import { buildPod, resolveResources, resolveWritablePaths, type PodSecurity } from "../children/index.js";
import type { SandboxRelated } from "../sandbox/index.js";
import { serviceAccount } from "../children/index.js";

/** How soon a pool asks to be synced again after the retirer could not reach the API. */
export const RETIRE_RETRY_SECONDS = 30;

/**
 * A pool's observed pods by state, each list oldest first (creationTimestamp, then name), so that
 * every choice made from them is the same for the same request.
 */
export interface PoolPods {
  /** `available` and Ready: a Sandbox may claim it now. */
  available: ObservedPod[];
  /** `available`, not Ready yet. */
  pending: ObservedPod[];
  /** `available`, but Failed or Succeeded (evicted, say): it will never be Ready again. */
  dead: ObservedPod[];
  /**
   * Every observed pod the pool keeps as a child: all but those it observes `retiring` and strays
   * without a known state. A claim takes only `available` pods, so deleting either can never take
   * a pod from under a Sandbox.
   */
  kept: ObservedPod[];
  /** Every observed pod, whatever its state. */
  observed: ObservedPod[];
  /** Pods Sandboxes have claimed from the pool. */
  assigned: number;
  /** The name of every pod of the pool that still exists: a new pod never takes one. */
  takenNames: ReadonlySet<string>;
}

/**
 * Sorts the pool's pods by `warm-state` (SPEC §2, "No WarmPod kind"). The claimed pods come from
 * the related pods (customize asks for them): a claim moves a pod to its Sandbox, so it is no
 * longer the pool's child, but it still counts as assigned and still holds its name.
 */
export function observePool(pool: KubeObject, children: ObjectMap, related: ObjectMap): PoolPods {
  const observed = objectsOfKind<ObservedPod>(children, "v1", "Pod").sort(oldestFirst);
  // One pass over the pods, each list keeping their order.
  const available: ObservedPod[] = [];
  const pending: ObservedPod[] = [];
  const dead: ObservedPod[] = [];
  const kept: ObservedPod[] = [];
  // Claimed in a view of the pool that is not up to date yet: the pod is a Sandbox's now.
  const claimedChildren: ObservedPod[] = [];
  for (const pod of observed) {
    const state = pod.metadata.labels?.[LABEL_WARM_STATE];
    if (state === WarmState.Claimed) {
      claimedChildren.push(pod);
      kept.push(pod);
    } else if (state === WarmState.Available) {
      kept.push(pod);
      const phase = pod.status?.phase;
      if (phase === "Failed" || phase === "Succeeded") dead.push(pod);
      else if (isPodReady(pod)) available.push(pod);
      else pending.push(pod);
    }
  }
  const poolLabel = labelValue(pool.metadata.name);
  const claimedElsewhere = objectsOfKind<ObservedPod>(related, "v1", "Pod").filter(
    (pod) =>
      pod.metadata.namespace === pool.metadata.namespace &&
      pod.metadata.labels?.[LABEL_POOL] === poolLabel &&
      pod.metadata.labels[LABEL_WARM_STATE] === WarmState.Claimed,
  );
  return {
    available,
    pending,
    dead,
    kept,
    observed,
    assigned: new Set([...claimedChildren, ...claimedElsewhere].map((pod) => pod.metadata.name)).size,
    takenNames: new Set([...observed, ...claimedElsewhere].map((pod) => pod.metadata.name)),
  };
}

function oldestFirst(a: ObservedPod, b: ObservedPod): number {
  return (
    compareStrings(a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? "") ||
    compareStrings(a.metadata.name, b.metadata.name)
  );
}

/** How many warm pods (available or pending) a pool wants. */
export interface PoolSize {
  desired: number;
  /** What minSize and autoscaling ask for, before maxSize caps it. */
  wanted: number;
  /** `maxSize` is set below `minSize`; `minSize` wins. */
  conflict: boolean;
}

/**
 * The most warm pods a pool keeps, whatever its spec: the CRD's maximum of minSize and maxSize,
 * and what maxSize 0 means. Every sync of a pool carries each of its pods, and a thousand keep
 * that request a few megabytes (docs/PERFORMANCE.md).
 */
export const WARM_POOL_SIZE_CAP = 1000;

/**
 * minSize, or with autoscaling enough warm pods that at most `targetUtilization` percent of the
 * pool (warm + assigned) is assigned; never more than maxSize, unless maxSize is below minSize,
 * and never more than {@link WARM_POOL_SIZE_CAP}.
 */
export function poolSize(spec: WarmPoolSpec, assigned: number): PoolSize {
  const { minSize, autoScaling } = spec;
  const maxSize = spec.maxSize > 0 ? spec.maxSize : WARM_POOL_SIZE_CAP;
  // assigned / (warm + assigned) ≤ target ⇔ warm ≥ assigned·100/target − assigned. Integers on
  // both sides of the division, so a whole quotient is exact and ceil never rounds it up.
  const forDemand = autoScaling.enabled ? Math.ceil((assigned * 100) / autoScaling.targetUtilization) - assigned : 0;
  const wanted = Math.max(minSize, forDemand);
  return {
    desired: Math.min(Math.max(minSize, Math.min(wanted, maxSize)), WARM_POOL_SIZE_CAP),
    wanted,
    conflict: maxSize < minSize,
  };
}

/** Seconds until a pod reaches the pool's ttl (zero or less once it has); undefined if it never does. */
export function ttlLeft(pod: ObservedPod, ttlSeconds: number, now: Date): number | undefined {
  if (ttlSeconds === 0) return undefined;
  const created = Date.parse(pod.metadata.creationTimestamp ?? "");
  if (Number.isNaN(created)) return undefined;
  return (created + ttlSeconds * 1000 - now.getTime()) / 1000;
}

/** Seconds until the pool may retire spare pods (zero or less once it may). */
export function scaleDownWait(pool: WarmPool, now: Date): number {
  const last = Date.parse(pool.status?.lastScaleTime ?? "");
  if (Number.isNaN(last)) return 0;
  return (last + pool.spec.autoScaling.scaleDownDelay * 1000 - now.getTime()) / 1000;
}

/**
 * Names for `count` new pods: `<pool>-<5 hex of sha256(pool uid/index)>` for the lowest indexes
 * whose name no pod of the pool still holds. The same observed pods give the same names, so a
 * repeated sync asks for the same pods; a name in use is never asked for, so a create never
 * collides with a pod being deleted or one a Sandbox has claimed.
 */
export function newPodNames(pool: KubeObject, count: number, taken: ReadonlySet<string>): string[] {
  const used = new Set(taken);
  const names: string[] = [];
  for (let index = 0; names.length < count; index++) {
    const suffix = createHash("sha256").update(`${pool.metadata.uid ?? ""}/${index}`).digest("hex").slice(0, 5);
    const name = dnsLabel(pool.metadata.name, suffix);
    if (used.has(name)) continue;
    used.add(name);
    names.push(name);
  }
  return names;
}

/**
 * What a warm pod has where a Sandbox would choose: the Sandbox CRD's defaults, so that a claimed
 * pod runs as a cold pod of a Sandbox that left them unset would.
 */
const SANDBOX_DEFAULTS = { runAsUser: 1000, runAsGroup: 1000, readOnlyRoot: true, writablePaths: ["/tmp", "/workspace"] };

/**
 * A warm pod (SPEC §5, §6): built by the same builder as a Sandbox's pod, with the pool's runtime,
 * level, resources and profile, labelled `warm-state=available`, and with no network until a
 * Sandbox claims it (the pool's deny-all policy selects it).
 */
export function warmPoolPod(pool: WarmPool, name: string, related: SandboxRelated, security: PodSecurity): V1Pod {
  const { spec } = pool;
  return buildPod({
    name,
    namespace: pool.metadata.namespace ?? "",
    labels: warmPodLabels({ name: pool.metadata.name, runtime: spec.runtime, securityLevel: spec.securityLevel }),
    annotations: { [ANNOTATION_WARM_POD]: "true" },
    serviceAccountName: warmPoolChildName(pool.metadata.name),
    image: related.runtime.spec.image,
    security,
    runAsUser: SANDBOX_DEFAULTS.runAsUser,
    runAsGroup: SANDBOX_DEFAULTS.runAsGroup,
    readOnlyRoot: SANDBOX_DEFAULTS.readOnlyRoot,
    writablePaths: resolveWritablePaths(SANDBOX_DEFAULTS.writablePaths, related.profile),
    resources: resolveResources(spec.resources, related.profile, related.runtime),
    cpuPinning: false,
  });
}

/** The pool's ServiceAccount and its deny-all NetworkPolicy: what every warm pod needs. */
export function warmPoolSupport(pool: KubeObject): KubeObject[] {
  const { name, namespace = "" } = pool.metadata;
  const labels = warmPoolLabels(name);
  const denyAll: NetworkPolicy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: warmPoolChildName(name, "deny-all"), namespace, labels },
    // No rules: nothing in or out until a Sandbox claims the pod and its allow policies add up.
    spec: { podSelector: { matchLabels: warmPodSelector(name) }, policyTypes: ["Ingress", "Egress"] },
  };
  return [serviceAccount({ name: warmPoolChildName(name), namespace, labels }), denyAll] as KubeObject[];
}

/**
 * {@link warmPoolSupport} as a pool's sync or finalize asks for it: in a namespace being deleted
 * only what still exists, since nothing new can be created there (see namespaceTerminating).
 */
export function warmPoolSupportIn(request: { parent: KubeObject; children: ObjectMap; related: ObjectMap }): KubeObject[] {
  const support = warmPoolSupport(request.parent);
  return namespaceTerminating(request.related, request.parent.metadata.namespace ?? "") ? observedOnly(support, request.children) : support;
}

/** What became of the pods a pool gave up. */
export interface Retirement {
  /** Now `retiring`: dropped once observed so. */
  retired: ObservedPod[];
  /** The retirer could not reach the API; asked again on a later sync. */
  failed: ObservedPod[];
}

/**
 * Gives pods up, retire before drop (SPEC §6): each is flipped to `retiring` only if it is still
 * `available`, and stays a child this sync whatever the answer. A pod claimed in the meantime
 * answers `not-available` and is left to its Sandbox.
 */
export async function retirePods(retirer: WarmPodRetirer, pool: KubeObject, pods: readonly ObservedPod[]): Promise<Retirement> {
  const results = await Promise.all(
    pods.map((pod) => retirer.retire({ name: pod.metadata.name, namespace: pod.metadata.namespace ?? pool.metadata.namespace ?? "" })),
  );
  return {
    retired: pods.filter((_, index) => results[index] === "retired"),
    failed: pods.filter((_, index) => results[index] === "error"),
  };
}

/**
 * The observed pods that stay, as desired children. Pods are `OnDelete` children, so
 * Metacontroller never rewrites one from this copy: a pod flipped to `retiring` or `claimed`
 * since the request was sent keeps its new labels.
 */
export function keptPods(pods: PoolPods): KubeObject[] {
  return pods.kept.map(keepObserved);
}

/** `1 pod`, `2 pods`; `1 child`, `2 children`. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** The RetireFailure condition, while some pod could not be given up. */
export function retireFailure(failed: readonly ObservedPod[]): ConditionInput | undefined {
  if (failed.length === 0) return undefined;
  const shown = 5;
  const names = failed.slice(0, shown).map((pod) => pod.metadata.name);
  const more = failed.length > shown ? ` and ${failed.length - shown} more` : "";
  return {
    type: ConditionType.RetireFailure,
    status: "True",
    reason: Reason.RetireFailed,
    message:
      `Could not mark ${count(failed.length, "pod")} as retiring (${names.join(", ")}${more}): the Kubernetes API did ` +
      `not answer, or this hook server has no Kubernetes API access. They stay in the pool and can still be ` +
      `claimed; the pool tries again in ${RETIRE_RETRY_SECONDS}s.`,
  };
}

/**
 * The pool's status: counts of what is observed, `lastScaleTime` moved to now only when this sync
 * created or retired pods, and conditions carried over unless they flipped.
 */
export function poolStatus(
  previous: WarmPoolStatus | undefined,
  pods: PoolPods,
  scaled: boolean,
  conditions: readonly (ConditionInput | undefined)[],
  now: Date,
): WarmPoolStatus {
  const lastScaleTime = scaled ? formatTime(now) : previous?.lastScaleTime;
  return {
    availablePods: pods.available.length,
    assignedPods: pods.assigned,
    pendingPods: pods.pending.length,
    ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
    conditions: conditions
      .filter((input): input is ConditionInput => input !== undefined)
      .map((input) => carryCondition(previous?.conditions, input, now)),
  };
}

/** The soonest of some moments, in whole seconds from now (at least 1), for `resyncAfterSeconds`. */
export function resyncAfter(seconds: readonly number[]): { resyncAfterSeconds?: number } {
  if (seconds.length === 0) return {};
  // A loop, not Math.min(...seconds): a pool of a hundred thousand pods would overflow the stack.
  let soonest = Infinity;
  for (const value of seconds) if (value < soonest) soonest = value;
  return { resyncAfterSeconds: Math.max(1, Math.ceil(soonest)) };
}
