/**
 * POST /warmpool/sync — a WarmPool's desired children and its status (SPEC §6).
 *
 * Keeps `minSize` (or, with autoscaling, enough) warm pods, replaces pods past their ttl, and
 * retires spare ones no sooner than `scaleDownDelay` after the last scaling. An `available` pod is
 * never dropped directly: the pool asks the retirer to flip it to `retiring` and drops only pods it
 * observes so, since a Sandbox may have claimed the pod after this request was sent.
 *
 * Pure but for that one side effect, which happens through the retirer it is given. Time comes in
 * as `now`: the same request, the same `now` and the same retirer answers give the same bytes.
 */
import type { WarmPool, WarmPoolStatus } from "../src/api/index.js";
import type { WarmPodRetirer } from "../src/warm-pool/index.js";
import { ConditionType, Reason, type ConditionInput } from "../src/api/index.js";
import type { PodConfig } from "../src/children/index.js";
import type { ProfileConfig } from "../src/sandbox/index.js";
import { warmPoolChildName } from "../src/children/index.js";
import type { HookRequest, HookResponse, KubeObject } from "../src/api/index.js";
import { namespaceTerminating, serviceAccountObserved, type ObservedPod } from "../src/api/index.js";
import { isPodFailure, resolvePodSecurity, type PodFailure, type PodSecurity } from "../src/children/index.js";
import { findRelated, type RelatedProblems, type SandboxRelated } from "../src/sandbox/index.js";
import {
  RETIRE_RETRY_SECONDS,
  WARM_POOL_SIZE_CAP,
  count,
  keptPods,
  newPodNames,
  observePool,
  poolSize,
  poolStatus,
  resyncAfter,
  retireFailure,
  retirePods,
  scaleDownWait,
  ttlLeft,
  warmPoolPod,
  warmPoolSupportIn,
  type PoolPods,
  type PoolSize,
} from "../src/warm-pool/index.js";

export interface WarmPoolSyncDeps {
  config: { pod: PodConfig; profile: ProfileConfig };
  retirer: WarmPodRetirer;
  now: Date;
  /** Related objects left out because they do not match our CRDs. @default none */
  relatedProblems?: RelatedProblems;
}

export async function warmPoolSync(
  request: HookRequest<WarmPool>,
  deps: WarmPoolSyncDeps,
): Promise<HookResponse<WarmPoolStatus>> {
  const pool = request.parent;
  const pods = observePool(pool, request.children, request.related);
  const size = poolSize(pool.spec, pods.assigned);
  const plan = podPlan(pool, request.related, deps);
  // While no pod can be built nothing is given up either: a RuntimeEnvironment that is briefly
  // missing must not empty the pool.
  const scaling = plan.kind === "build" ? scalingOf(pool, pods, size, deps.now) : { create: 0, giveUp: [], wake: [] };

  const retirement = await retirePods(deps.retirer, pool, scaling.giveUp);
  // New pods wait for the sync that observes the pool's ServiceAccount (see serviceAccountObserved),
  // and none is asked for in a namespace being deleted (see namespaceTerminating).
  const namespace = pool.metadata.namespace ?? "";
  const account = warmPoolChildName(pool.metadata.name);
  const accountReady = serviceAccountObserved(request.children, namespace, account);
  const closing = namespaceTerminating(request.related, namespace);
  const created =
    plan.kind === "build" && accountReady && !closing
      ? newPodNames(pool, scaling.create, pods.takenNames).map(
          (name) => warmPoolPod(pool, name, plan.related, plan.security) as KubeObject,
        )
      : [];

  const status = poolStatus(
    pool.status,
    pods,
    created.length > 0 || retirement.retired.length > 0,
    [
      readyCondition(pool, pods, size, plan, scaling.create > 0 ? heldBack(namespace, account, accountReady, closing) : undefined),
      sizeConflict(pool, size),
      retireFailure(retirement.failed),
    ],
    deps.now,
  );
  return {
    status,
    children: [...keptPods(pods), ...created, ...warmPoolSupportIn(request)],
    // Wake up when a ttl runs out or the scale-down delay has passed, even if nothing else
    // changes; and soon again when the retirer could not reach the API.
    ...resyncAfter([...scaling.wake, ...(retirement.failed.length > 0 ? [RETIRE_RETRY_SECONDS] : [])]),
  };
}

type PodPlan = { kind: "build"; related: SandboxRelated; security: PodSecurity } | { kind: "blocked"; failure: PodFailure };

/** Whether new warm pods can be built, and from what; or what stands in the way. */
function podPlan(pool: WarmPool, related: HookRequest<WarmPool>["related"], deps: WarmPoolSyncDeps): PodPlan {
  const found = findRelated(pool, related, {
    sharedProfileNamespaces: deps.config.profile.sharedNamespaces,
    problems: deps.relatedProblems ?? new Map(),
  });
  if (isPodFailure(found)) return { kind: "blocked", failure: found };
  const security = resolvePodSecurity(pool.spec.securityLevel, found.runtime, found.profile, undefined, deps.config.pod);
  if (isPodFailure(security)) return { kind: "blocked", failure: security };
  return { kind: "build", related: found, security };
}

interface Scaling {
  /** How many new pods to create. */
  create: number;
  /** Pods to give up (retire), in the order they are asked. */
  giveUp: ObservedPod[];
  /** Seconds until the pool must act again with nothing else happening. */
  wake: number[];
}

/**
 * What the pool does about its size. Dead pods and pods past their ttl are given up and replaced
 * at once (they no longer count as warm). Spare pods go no sooner than scaleDownDelay after the
 * last scaling, never below the wanted size: pending ones first, then the oldest available.
 */
function scalingOf(pool: WarmPool, pods: PoolPods, size: PoolSize, now: Date): Scaling {
  // Each pod's ttl is read once; sets, not list scans, so a pool of thousands stays linear.
  const left = new Map(pods.available.map((pod) => [pod, ttlLeft(pod, pool.spec.ttl, now)]));
  const expired = pods.available.filter((pod) => {
    const seconds = left.get(pod);
    return seconds !== undefined && seconds <= 0;
  });
  const expiredSet = new Set(expired);
  const fresh = pods.available.filter((pod) => !expiredSet.has(pod));
  const giveUp = [...pods.dead, ...expired];
  const wake: number[] = [];
  const spare = fresh.length + pods.pending.length - size.desired;
  if (spare > 0) {
    const wait = scaleDownWait(pool, now);
    if (wait > 0) wake.push(wait);
    else giveUp.push(...[...pods.pending, ...fresh].slice(0, spare));
  }
  // The next ttl to run out among the pods that stay.
  const givenUp = new Set(giveUp);
  for (const pod of fresh) {
    if (givenUp.has(pod)) continue;
    const seconds = left.get(pod);
    if (seconds !== undefined) wake.push(seconds);
  }
  return { create: Math.max(0, -spare), giveUp, wake };
}

/** Why the pods the pool wants are not created yet, when something other than Metacontroller's next turn holds them. */
function heldBack(namespace: string, account: string, accountReady: boolean, closing: boolean): string | undefined {
  if (closing) return `Namespace ${namespace} is being deleted; no pod is created in it.`;
  if (!accountReady) return `New pods are created once the pool's ServiceAccount ${account} exists.`;
  return undefined;
}

/** `held`: why new pods are not created yet, when a reason is known. */
function readyCondition(pool: WarmPool, pods: PoolPods, size: PoolSize, plan: PodPlan, held?: string): ConditionInput {
  const { minSize } = pool.spec;
  const available = pods.available.length;
  const target = targetOf(pool, size, pods.assigned);
  if (plan.kind === "blocked") {
    return {
      type: ConditionType.Ready,
      status: "False",
      reason: plan.failure.reason,
      message: `${plan.failure.message} No new warm pod starts until this is fixed; the pods the pool has are kept.`,
    };
  }
  if (available >= minSize) {
    return {
      type: ConditionType.Ready,
      status: "True",
      reason: Reason.PodsAvailable,
      message: `${count(available, "warm pod")} ready to be claimed. ${target}`,
    };
  }
  return {
    type: ConditionType.Ready,
    status: "False",
    reason: Reason.Scaling,
    message:
      `${count(available, "warm pod")} ready, fewer than minSize ${minSize}; ${pods.pending.length} starting. ${target}` +
      (held === undefined ? "" : ` ${held}`),
  };
}

/** How many warm pods the pool keeps, and why. */
function targetOf(pool: WarmPool, size: PoolSize, assigned: number): string {
  const { minSize, maxSize, autoScaling } = pool.spec;
  const bounds = `minSize ${minSize}${maxSize > 0 ? `, maxSize ${maxSize}` : ""}`;
  if (!autoScaling.enabled) return `The pool keeps ${count(size.desired, "pod")} warm (${bounds}).`;
  const demand = `for ${assigned} claimed, so that at most ${autoScaling.targetUtilization}% of the pool is claimed`;
  return size.desired < size.wanted
    ? `Autoscaling asks for ${count(size.wanted, "pod")} warm ${demand}; ${maxSize > 0 ? `maxSize ${maxSize}` : `the largest pool a hook server keeps (${WARM_POOL_SIZE_CAP})`} caps the pool at ${size.desired}.`
    : `Autoscaling keeps ${count(size.desired, "pod")} warm ${demand} (${bounds}).`;
}

function sizeConflict(pool: WarmPool, size: PoolSize): ConditionInput | undefined {
  if (!size.conflict) return undefined;
  const { minSize, maxSize } = pool.spec;
  return {
    type: ConditionType.SizeConflict,
    status: "True",
    reason: Reason.MaxSizeBelowMinSize,
    message:
      `maxSize ${maxSize} is below minSize ${minSize}; the pool keeps ${count(minSize, "pod")} warm. ` +
      `Raise maxSize, or set it to 0 for no limit.`,
  };
}
