/**
 * POST /sandbox/sync — a Sandbox's desired children and its status (SPEC §4.2–§4.4).
 *
 * Pure but for the one deliberate side effect, the warm-pod claim, which happens through the
 * claimer it is given. Time comes in as `now`: the same request and the same `now` give the
 * same bytes.
 */
import type { Sandbox, SandboxPhase, SandboxStatus } from "../src/api/index.js";
import type { WarmPodClaimer } from "../src/warm-pool/index.js";
import { ConditionType, Reason, type ConditionInput } from "../src/api/index.js";
import type { NetworkConfig, PodConfig } from "../src/children/index.js";
import type { ProfileConfig } from "../src/sandbox/index.js";
import { ANNOTATION_LAST_ACTIVITY, LABEL_CLAIMED_BY, sandboxChildName, sandboxLabels, sandboxSelector } from "../src/children/index.js";
import { allObjects, objectsOfKind, type HookRequest, type HookResponse, type KubeObject } from "../src/api/index.js";
import { sandboxNetworkPolicies, type NetworkPolicies } from "../src/children/index.js";
import {
  isPodReady,
  keepObserved,
  namespaceTerminating,
  objectKey,
  observedOnly,
  serviceAccountObserved,
  type ObservedPod,
} from "../src/api/index.js";
import { persistentVolumeClaim } from "../src/children/index.js";
import {
  buildPod,
  isPodFailure,
  resolvePodSecurity,
  resolveResources,
  resolveWritablePaths,
  type PodFailure,
  type PodSecurity,
} from "../src/children/index.js";
import {
  conditionsOf,
  findRelated,
  lifecycleOf,
  previousCondition,
  readyCondition,
  resumedAt,
  servingPod,
  warmPoolOf,
  warmRequest,
  type Lifecycle,
  type RelatedProblems,
  type SandboxRelated,
  type SuspendReason,
} from "../src/sandbox/index.js";
import { serviceAccount } from "../src/children/index.js";
import { sandboxService, serviceEndpoint } from "../src/children/index.js";

export interface SandboxSyncDeps {
  config: { network: NetworkConfig; pod: PodConfig; profile: ProfileConfig };
  claimer: WarmPodClaimer;
  now: Date;
  /** Related objects left out because they do not match our CRDs. @default none */
  relatedProblems?: RelatedProblems;
  /** Counts allocation attempts with the seed's vocabulary. @default none */
  metrics?: SandboxSyncMetrics;
}

/** How a Sandbox's pod came to be Ready: a claimed warm pod, a cold start, or a resume after a suspension. */
export type StartPath = "warm" | "cold" | "resume";

/**
 * A change in a Sandbox's life that a sync records in its status. `key` names it: every sync
 * that records the same change gives the same key. Metacontroller may sync a parent from a cache
 * that has not yet seen the status its last sync wrote, and that sync records the change again;
 * the key lets the server count it once, across replicas too (it records each key once, as a
 * Kubernetes Event).
 */
export type SandboxTransition = {
  key: string;
  sandbox: { namespace: string; name: string; uid: string };
  /** One line for people, as the Event says it. */
  message: string;
} & (
  | { kind: "Suspended"; reason: SuspendReason }
  | { kind: "Resumed" }
  | {
      kind: "Ready";
      path: StartPath;
      runtime: string;
      securityLevel: string;
      /** The Sandbox's creation (or its resume) → this sync. */
      seconds: number;
      /** The pod that became Ready. */
      pod: string;
      /** For a resume: creation of the resumed pod → its Ready condition (status.lastResumeSeconds). */
      resumeSeconds?: number;
    }
);

/** What a sync reports, for the server's metrics. */
export interface SandboxSyncMetrics {
  /** A sync that starts a Sandbox's pod: an allocation attempt, warm `requested` or not. */
  podStarted(runtime: string, securityLevel: string, warmRequested: boolean): void;
  /** A change this sync records in the Sandbox's status. */
  transition?(transition: SandboxTransition): void;
}

export async function sandboxSync(
  request: HookRequest<Sandbox>,
  deps: SandboxSyncDeps,
): Promise<HookResponse<SandboxStatus>> {
  const sandbox = request.parent;
  const previous = sandbox.status;
  const own = ownNames(sandbox);
  const pods = objectsOfKind<ObservedPod>(request.children, "v1", "Pod");
  const pod = servingPod(pods, previous);
  const lifecycle = lifecycleOf(sandbox, pod, deps.now);
  const stopped = lifecycle.expired !== false || lifecycle.suspended !== undefined;

  const related = findRelated(sandbox, request.related, {
    sharedProfileNamespaces: deps.config.profile.sharedNamespaces,
    problems: deps.relatedProblems ?? new Map(),
  });
  const network = networkPolicies(sandbox, own, isPodFailure(related) ? undefined : related.profile, deps.config.network);
  const plan = podPlan(sandbox, related, network, deps.config.pod);
  // Why no new pod may start, if anything stands in the way. A running pod is never taken down
  // for it: a RuntimeEnvironment that is briefly missing must not kill a sandbox.
  const failure = plan.kind === "blocked" ? plan.failure : undefined;

  // The pod: the one that exists, else a claimed warm pod, else a cold one (SPEC §4.2). Never
  // a second pod, and never one while the Sandbox is suspended or has expired.
  let desiredPod: KubeObject | undefined;
  let cold: KubeObject | undefined;
  // The pod this answer is about: the observed one, or the one just claimed, as the API server
  // answered the claim.
  let serving = stopped ? undefined : pod;
  // A suspended Sandbox's status has no WarmPodClaimed, so a resumed start may claim once again.
  let warmCondition = previousCondition(previous, ConditionType.WarmPodClaimed);
  const warm = warmRequest(sandbox);
  const accountReady = serviceAccountObserved(request.children, own.namespace, own.child);
  const closing = namespaceTerminating(request.related, own.namespace);
  // A resumed Sandbox's new pod takes the old one's name: it waits until the old one is gone.
  const afterResume = lifecycle.everSuspended && !stopped && lifecycle.runningSince === undefined;
  const leaving = afterResume && pods.some((p) => p.metadata.deletionTimestamp !== undefined);
  if (stopped) {
    // Suspended or over: every pod goes, a claimed warm pod too (never back to a pool).
    warmCondition = undefined;
  } else if (pod !== undefined && !(afterResume && pod.metadata.deletionTimestamp !== undefined)) {
    desiredPod = keepObserved(pod);
    const pool = warmPoolOf(pod);
    if (pool !== undefined) warmCondition = claimedCondition(pod.metadata.name, pool);
  } else if (pod === undefined && !closing && plan.kind === "build") {
    if (warm !== undefined) {
      if (sandbox.spec.storage?.persistent === true) {
        warmCondition = {
          type: ConditionType.WarmPodClaimed,
          status: "False",
          reason: Reason.WarmPodIncompatible,
          message: "A warm pod has no persistent volume, and this Sandbox asks for one (spec.storage.persistent); it starts a cold pod.",
        };
      } else if (warmCondition?.status !== "False") {
        // One claim per start: a Sandbox whose claim came back empty (its status says so) starts
        // cold on the next sync, when its ServiceAccount exists, without asking again. Best
        // effort: a sync that reads the parent before its status write arrived asks once more,
        // which costs a listing and can only end in one pod.
        cold = coldPod(sandbox, own, plan.related, plan.security);
        const result = await deps.claimer.claim({ sandbox, ...warm, coldPod: cold });
        if (result.outcome === "claimed") {
          desiredPod = result.pod;
          serving = result.observed;
          warmCondition = claimedCondition(result.pod.metadata.name, result.pool);
        } else {
          warmCondition = { type: ConditionType.WarmPodClaimed, status: "False", reason: result.reason, message: result.message };
        }
      }
    }
    if (desiredPod === undefined && accountReady) desiredPod = cold ?? coldPod(sandbox, own, plan.related, plan.security);
  } else if (pod !== undefined) {
    // The old pod of a resumed Sandbox, still terminating: nothing to serve, nothing to keep.
    serving = undefined;
  }
  // A claimed pod that was Ready starts the run now, in this sync.
  const lived = serving === pod || stopped ? lifecycle : lifecycleOf(sandbox, serving, deps.now);
  if (pod === undefined && desiredPod !== undefined) {
    deps.metrics?.podStarted(warm?.runtime ?? sandbox.spec.runtime, warm?.securityLevel ?? sandbox.spec.securityLevel, warm !== undefined);
  }
  // A first sync observes no pod and has nothing to release: no need to wait a turn for it.
  const extraClaims = pods.length === 0 || stopped ? [] : await releaseExtraClaims(sandbox, pods, pod, deps.claimer);
  if (warm === undefined && warmPoolOf(serving) === undefined) warmCondition = undefined;

  const wanted = [desiredPod, ...extraClaims, ...supportingChildren(sandbox, own), ...network.children].filter(
    (child): child is KubeObject => child !== undefined,
  );
  // In a namespace being deleted, nothing new: only what exists is kept (or updated).
  const desired = closing ? observedOnly(wanted, request.children) : wanted;
  const expired = lived.expired !== false;
  const children = failure === undefined ? desired : [...desired, ...keptWhileFailed(request, desired, expired || lived.suspended !== undefined)];

  const phase: SandboxPhase = expired
    ? "Terminated"
    : lived.suspended !== undefined
      ? "Suspended"
      : failure !== undefined
        ? "Failed"
        : phaseOf(serving);
  if (deps.metrics?.transition !== undefined) {
    for (const transition of transitionsOf(sandbox, lived, serving, deps.now)) deps.metrics.transition(transition);
  }
  const status: SandboxStatus = {
    phase,
    conditions: conditionsOf(
      previous,
      [
        leaving
          ? readyCondition("False", Reason.PreviousPodTerminating, "The sandbox's previous pod is still terminating; its new pod is created once it is gone.")
          : readiness(lived, phase, serving, failure, pendingReason(own, accountReady, closing)),
        warmCondition,
        egressCondition(network),
        expiredCondition(sandbox, lived),
        suspendedCondition(sandbox, lived),
        idleCondition(lived),
      ],
      deps.now,
    ),
    ...podFields(sandbox, own, expired || lived.suspended !== undefined ? undefined : serving, phase),
    ...(lived.startTime !== undefined ? { startTime: lived.startTime } : {}),
    ...runFields(lived),
  };
  const wake = nextWake(lived, deps.now);
  return {
    status,
    children,
    // Wake up when the lifetime ends or the Sandbox goes idle, even if nothing else changes.
    ...(wake !== undefined ? { resyncAfterSeconds: wake } : {}),
  };
}

/** Ready, as the phase and what stands in the way say. */
function readiness(lifecycle: Lifecycle, phase: SandboxPhase, serving: ObservedPod | undefined, failure: PodFailure | undefined, pending: string | undefined): ConditionInput {
  if (lifecycle.expired === Reason.IdleTimeoutExceeded) {
    return readyCondition("False", Reason.IdleTimeoutExceeded, "The sandbox went idle and ended (spec.lifecycle.onIdle: Terminate); it no longer runs.");
  }
  if (phase === "Suspended") {
    return readyCondition("False", Reason.Suspended, "The sandbox is suspended (the Suspended condition says why and how to resume): its pod is deleted; its storage, Service and policies stay.");
  }
  if (failure !== undefined && lifecycle.expired === false) return readyCondition("False", failure.reason, failure.message);
  return podReadiness(serving, phase, pending);
}

/** The status fields of a Sandbox's runs, once it has been suspended (absent before: nothing changes for others). */
function runFields(lifecycle: Lifecycle): Partial<SandboxStatus> {
  return {
    ...(lifecycle.everSuspended && lifecycle.runningSince !== undefined ? { runningSince: lifecycle.runningSince } : {}),
    ...(lifecycle.everSuspended ? { runningSeconds: lifecycle.runningSeconds } : {}),
    ...(lifecycle.specSuspendAtIdle !== undefined ? { specSuspendAtIdle: lifecycle.specSuspendAtIdle } : {}),
    ...(lifecycle.lastResumeSeconds !== undefined ? { lastResumeSeconds: lifecycle.lastResumeSeconds } : {}),
    ...(lifecycle.idle !== undefined ? { idleDeadline: lifecycle.idle.deadline } : {}),
  };
}

/** Seconds until the lifetime ends or the Sandbox goes idle, while it runs. */
function nextWake(lifecycle: Lifecycle, now: Date): number | undefined {
  if (lifecycle.expired !== false || lifecycle.suspended !== undefined || lifecycle.runningSince === undefined) return undefined;
  const waits = [lifecycle.secondsLeft];
  if (lifecycle.idle !== undefined && !lifecycle.idle.idle) waits.push((Date.parse(lifecycle.idle.deadline) - now.getTime()) / 1000);
  const soonest = Math.min(...waits.filter((w): w is number => w !== undefined));
  return Number.isFinite(soonest) ? Math.max(1, Math.ceil(soonest)) : undefined;
}

/**
 * The changes this sync records: a suspension, a resume, a run's start. The generation tells
 * suspensions and resumes apart: both follow a change to `spec.suspend` (an idle suspension, a
 * resume that did), so no two of a kind share one. A start is its run's, told apart by the
 * Running time before it (recorded at the suspension that ended the run before), not by its pod:
 * a resumed Sandbox may run on in a pod that was not yet deleted, and a sync from a stale cache
 * that missed a claim may claim a second pod for the same start (a later sync releases it).
 */
function transitionsOf(sandbox: Sandbox, lifecycle: Lifecycle, serving: ObservedPod | undefined, now: Date): SandboxTransition[] {
  const { namespace = "", name, uid = "", generation = 0, creationTimestamp } = sandbox.metadata;
  const base = (key: string, message: string) => ({ key, sandbox: { namespace, name, uid }, message });
  const transitions: SandboxTransition[] = [];
  if (!lifecycle.wasSuspended && lifecycle.suspended !== undefined) {
    const why =
      lifecycle.suspended === Reason.Idle
        ? `no activity for spec.lifecycle.idleTimeout (${sandbox.spec.lifecycle?.idleTimeout ?? 0}s)`
        : "spec.suspend is true";
    transitions.push({ ...base(`${uid}@${generation}/suspended`, `Suspended: ${why}. Its pod is deleted; its storage, Service and policies stay.`), kind: "Suspended", reason: lifecycle.suspended });
  }
  if (lifecycle.wasSuspended && lifecycle.suspended === undefined && lifecycle.expired === false) {
    transitions.push({ ...base(`${uid}@${generation}/resumed`, "Resumed: it runs again once its pod is Ready."), kind: "Resumed" });
  }
  if (lifecycle.runStarted && serving !== undefined) {
    const resumed = lifecycle.everSuspended;
    const pool = warmPoolOf(serving);
    // From the Sandbox's creation, or from its resume: this sync, or when its status said so.
    const from = !resumed ? Date.parse(creationTimestamp ?? "") : lifecycle.wasSuspended ? now.getTime() : Date.parse(resumedAt(sandbox.status) ?? "");
    const seconds = Number.isNaN(from) ? 0 : Math.max(0, now.getTime() - from) / 1000;
    const pod = serving.metadata.name;
    const message = resumed
      ? `Running again ${seconds.toFixed(1)}s after it was resumed, on pod ${pod}.`
      : pool !== undefined
        ? `Running ${seconds.toFixed(1)}s after it was created, on warm pod ${pod} of WarmPool ${pool}.`
        : `Running ${seconds.toFixed(1)}s after it was created, on pod ${pod} (a cold start).`;
    transitions.push({
      ...base(`${uid}/ready/${lifecycle.runningSeconds}`, message),
      kind: "Ready",
      path: resumed ? "resume" : pool !== undefined ? "warm" : "cold",
      runtime: sandbox.spec.runtime,
      securityLevel: sandbox.spec.securityLevel,
      seconds,
      pod,
      ...(lifecycle.resumedReady && lifecycle.lastResumeSeconds !== undefined ? { resumeSeconds: lifecycle.lastResumeSeconds } : {}),
    });
  }
  return transitions;
}

function suspendedCondition(sandbox: Sandbox, lifecycle: Lifecycle): ConditionInput | undefined {
  if (lifecycle.suspended === Reason.Requested) {
    return { type: ConditionType.Suspended, status: "True", reason: Reason.Requested, message: "spec.suspend is true: the pod is deleted, everything else stays. Set it to false to resume." };
  }
  if (lifecycle.suspended === Reason.Idle) {
    const resume = sandbox.spec.suspend === false ? '{"spec":{"suspend":null}}' : '{"spec":{"suspend":false}}';
    return {
      type: ConditionType.Suspended,
      status: "True",
      reason: Reason.Idle,
      // Nothing here derives from the rest of the spec: it may change while the suspension holds.
      message: `The sandbox went idle: the pod is deleted, everything else stays. Only a change to spec.suspend resumes it: kubectl patch sandbox ${sandbox.metadata.name} --type merge -p '${resume}'.`,
    };
  }
  // Over, or never suspended: nothing to say.
  if (!lifecycle.everSuspended || lifecycle.expired !== false) return undefined;
  return { type: ConditionType.Suspended, status: "False", reason: Reason.Resumed, message: "The sandbox was resumed after a suspension." };
}

function idleCondition(lifecycle: Lifecycle): ConditionInput | undefined {
  const idle = lifecycle.idle;
  if (idle === undefined) return undefined;
  if (idle.idle) {
    return { type: ConditionType.Idle, status: "True", reason: Reason.IdleTimeoutExceeded, message: `The sandbox went idle at ${idle.deadline}, after spec.lifecycle.idleTimeout without activity.` };
  }
  if (idle.invalidActivity !== undefined) {
    return {
      type: ConditionType.Idle,
      status: "False",
      reason: Reason.LastActivityInvalid,
      message: `Annotation ${ANNOTATION_LAST_ACTIVITY} is ${JSON.stringify(idle.invalidActivity)}, not an RFC 3339 time, and is ignored: idle time counts from when the pod became Ready. The sandbox goes idle at ${idle.deadline}.`,
    };
  }
  return { type: ConditionType.Idle, status: "False", reason: Reason.Active, message: `The sandbox goes idle at ${idle.deadline} unless ${ANNOTATION_LAST_ACTIVITY} records later activity.` };
}

type PodPlan = { kind: "build"; related: SandboxRelated; security: PodSecurity } | { kind: "blocked"; failure: PodFailure };

/** Whether a new pod can be built, and from what; or what stands in the way. */
function podPlan(
  sandbox: Sandbox,
  related: SandboxRelated | PodFailure,
  network: NetworkPolicies,
  config: PodConfig,
): PodPlan {
  if (isPodFailure(related)) return { kind: "blocked", failure: related };
  const { securityLevel, securityContext } = sandbox.spec;
  const security = resolvePodSecurity(securityLevel, related.runtime, related.profile, securityContext.seccompProfile, config);
  if (isPodFailure(security)) return { kind: "blocked", failure: security };
  if (network.problems.length > 0) {
    return {
      kind: "blocked",
      failure: {
        reason: Reason.EgressRuleInvalid,
        message:
          `Left out egress that cannot be a NetworkPolicy: ${network.problems.join("; ")}. ` +
          `Fix spec.networkAccess or the SandboxProfile's networkPolicies.`,
      },
    };
  }
  return { kind: "build", related, security };
}

/**
 * Claim step 5: a Sandbox never holds two pods. A second pod that is a warm pod claimed for this
 * Sandbox (a claim whose answer came too late, say) goes back to its pool; it stays in this
 * answer so that Metacontroller, which may not have seen the release yet, does not delete it.
 * Any other extra pod is left out, and so deleted.
 */
async function releaseExtraClaims(
  sandbox: Sandbox,
  pods: readonly ObservedPod[],
  serving: ObservedPod | undefined,
  claimer: WarmPodClaimer,
): Promise<KubeObject[]> {
  const kept: KubeObject[] = [];
  for (const extra of pods) {
    if (extra === serving || extra.metadata.labels?.[LABEL_CLAIMED_BY] !== sandbox.metadata.uid) continue;
    await claimer.release(
      { name: extra.metadata.name, namespace: extra.metadata.namespace ?? sandbox.metadata.namespace ?? "" },
      sandbox.metadata.uid ?? "",
    );
    kept.push(keepObserved(extra));
  }
  return kept;
}

function expiredCondition(sandbox: Sandbox, lifecycle: Lifecycle): ConditionInput | undefined {
  if (lifecycle.expired === Reason.IdleTimeoutExceeded) {
    return {
      type: ConditionType.Expired,
      status: "True",
      reason: Reason.IdleTimeoutExceeded,
      message: "The sandbox went idle (spec.lifecycle.onIdle: Terminate); its pod was deleted. Delete the Sandbox to free the rest.",
    };
  }
  if (lifecycle.startTime === undefined && lifecycle.secondsLeft === undefined) return undefined;
  return lifecycle.expired !== false
    ? {
        type: ConditionType.Expired,
        status: "True",
        reason: Reason.TimeoutExceeded,
        message: `The sandbox ran for its timeout of ${sandbox.spec.timeout}s; its pod was deleted. Delete the Sandbox to free the rest.`,
      }
    : {
        type: ConditionType.Expired,
        status: "False",
        reason: Reason.WithinTimeout,
        message: lifecycle.everSuspended
          ? `The sandbox's pod is deleted once it has run for ${sandbox.spec.timeout}s; time suspended does not count.`
          : `The sandbox's pod is deleted ${sandbox.spec.timeout}s after it started running.`,
      };
}

function claimedCondition(podName: string, pool: string): ConditionInput {
  return {
    type: ConditionType.WarmPodClaimed,
    status: "True",
    reason: Reason.Claimed,
    message: `Claimed warm pod ${podName} from WarmPool ${pool}.`,
  };
}

/** The names and labels of a Sandbox's own children, worked out once per sync. */
interface OwnNames {
  /** `sandbox-<name>`: the pod, its ServiceAccount and the Service. */
  child: string;
  namespace: string;
  labels: Record<string, string>;
  /** What the Service and the NetworkPolicies select: also a claimed warm pod. */
  selector: Record<string, string>;
}

function ownNames(sandbox: Sandbox): OwnNames {
  const { name, namespace = "", uid = "" } = sandbox.metadata;
  return { child: sandboxChildName(name), namespace, labels: sandboxLabels({ name, uid }), selector: sandboxSelector(name) };
}

function coldPod(sandbox: Sandbox, own: OwnNames, related: SandboxRelated, security: PodSecurity): KubeObject {
  const spec = sandbox.spec;
  const persistent = spec.storage?.persistent === true;
  const pod = buildPod({
    name: own.child,
    namespace: own.namespace,
    labels: own.labels,
    serviceAccountName: own.child,
    image: related.runtime.spec.image,
    security,
    runAsUser: spec.securityContext.runAsUser,
    runAsGroup: spec.securityContext.runAsGroup,
    readOnlyRoot: spec.filesystem.readOnlyRoot,
    writablePaths: resolveWritablePaths(spec.filesystem.writablePaths, related.profile),
    resources: resolveResources(spec.resources, related.profile, related.runtime),
    cpuPinning: spec.resources.cpuPinning,
    ...(persistent ? { persistentClaimName: sandboxChildName(sandbox.metadata.name, "data") } : {}),
  });
  return pod as KubeObject;
}

/** The ServiceAccount, the Service and, when asked for, the data volume. */
function supportingChildren(sandbox: Sandbox, own: OwnNames): KubeObject[] {
  const { namespace, labels } = own;
  const children = [
    serviceAccount({ name: own.child, namespace, labels }),
    sandboxService({ metadata: { name: own.child, namespace, labels }, selector: own.selector }),
  ] as KubeObject[];
  const storage = sandbox.spec.storage;
  if (storage?.persistent === true) {
    children.push(
      persistentVolumeClaim({
        metadata: { name: sandboxChildName(sandbox.metadata.name, "data"), namespace, labels },
        size: storage.volumeSize,
        ...(storage.storageClass !== undefined ? { storageClass: storage.storageClass } : {}),
      }) as KubeObject,
    );
  }
  return children;
}

function networkPolicies(
  sandbox: Sandbox,
  own: OwnNames,
  profile: SandboxRelated["profile"],
  config: NetworkConfig,
): NetworkPolicies {
  const profileRules = profile?.spec.networkPolicies ?? [];
  return sandboxNetworkPolicies({
    sandboxName: sandbox.metadata.name,
    namespace: own.namespace,
    labels: own.labels,
    podSelector: own.selector,
    egress: [
      ...(sandbox.spec.networkAccess.egress ?? []),
      ...profileRules.filter((p) => p.type === "egress").flatMap((p) => p.rules ?? []),
    ],
    ingressFromCluster: sandbox.spec.networkAccess.ingress,
    profileIngress: profileRules.filter((p) => p.type === "ingress").flatMap((p) => p.rules ?? []),
    config,
  });
}

/**
 * While the Sandbox is Failed, observed children that the fresh answer does not name are kept
 * as they are — a profile that is briefly missing must not delete the policies it granted —
 * except a pod past its lifetime or of a suspended Sandbox.
 */
function keptWhileFailed(request: HookRequest<Sandbox>, desired: readonly KubeObject[], dropPods: boolean): KubeObject[] {
  const named = new Set(desired.map(objectKey));
  return allObjects(request.children)
    .filter((child) => !named.has(objectKey(child)))
    .filter((child) => !(child.apiVersion === "v1" && child.kind === "Pod" && dropPods))
    .map(keepObserved);
}

function phaseOf(pod: ObservedPod | undefined): SandboxPhase {
  if (pod === undefined) return "Pending";
  switch (pod.status?.phase) {
    case "Failed":
      return "Failed";
    // Sandbox pods restart on exit; a pod that still completes has nothing left to serve.
    case "Succeeded":
      return "Terminated";
    default:
      return isPodReady(pod) ? "Running" : "Creating";
  }
}

/** Why no pod is created yet, when something other than Metacontroller's next turn holds it. */
function pendingReason(own: OwnNames, accountReady: boolean, closing: boolean): string | undefined {
  if (closing) return `Namespace ${own.namespace} is being deleted; no pod is created in it.`;
  if (!accountReady) return `The sandbox's pod is created once its ServiceAccount ${own.child} exists.`;
  return undefined;
}

/** `pending`: why no pod is created yet, when a reason is known. */
function podReadiness(pod: ObservedPod | undefined, phase: SandboxPhase, pending?: string): ConditionInput {
  const name = pod?.metadata.name ?? "";
  switch (phase) {
    case "Running":
      return readyCondition("True", Reason.PodRunning, `Pod ${name} is ready.`);
    case "Terminated":
      return pod?.status?.phase === "Succeeded"
        ? readyCondition("False", Reason.PodCompleted, `Pod ${name} exited and will not run again. Delete the Sandbox and create a new one.`)
        : readyCondition("False", Reason.TimeoutExceeded, "The sandbox's timeout has passed; it no longer runs.");
    case "Failed":
      return readyCondition(
        "False",
        Reason.PodFailed,
        `Pod ${name} failed${pod?.status?.reason !== undefined ? ` (${pod.status.reason})` : ""}` +
          (pod?.status?.message !== undefined ? `: ${pod.status.message}` : "."),
      );
    case "Creating":
      return readyCondition("False", Reason.PodNotReady, `Pod ${name} is not ready.`);
    default:
      return readyCondition(
        "False",
        Reason.PodPending,
        pending ?? "The sandbox's pod has not been created yet.",
      );
  }
}

function egressCondition(network: NetworkPolicies): ConditionInput | undefined {
  if (network.domains.length === 0) return undefined;
  const list = network.domains.join(", ");
  return network.domainsEnforced
    ? {
        type: ConditionType.EgressDomainsEnforced,
        status: "True",
        reason: Reason.EnforcedByFqdnPolicy,
        message: `Egress to ${list} is enforced by name with CiliumNetworkPolicies.`,
      }
    : {
        type: ConditionType.EgressDomainsEnforced,
        status: "False",
        reason: Reason.NetworkPolicyCannotMatchDomains,
        message:
          `A NetworkPolicy cannot match a domain: egress for ${list} is open to every public IPv4 address on the ` +
          `rule's ports (private and link-local ranges stay closed). Give a cidr instead, or configure ` +
          `FQDN_PROVIDER=cilium on the hook server to enforce names.`,
      };
}

/** Status fields read off the serving pod. */
function podFields(sandbox: Sandbox, own: OwnNames, pod: ObservedPod | undefined, phase: SandboxPhase): Partial<SandboxStatus> {
  if (pod === undefined) return {};
  const namespace = pod.metadata.namespace ?? sandbox.metadata.namespace ?? "";
  const pool = warmPoolOf(pod);
  return {
    podName: pod.metadata.name,
    podNamespace: namespace,
    ...(phase === "Running"
      ? { endpoint: serviceEndpoint(own.child, own.namespace) }
      : {}),
    ...(pool !== undefined ? { warmPodRef: { name: pod.metadata.name, namespace, pool } } : {}),
  };
}
