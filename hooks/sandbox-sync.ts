/**
 * POST /sandbox/sync — a Sandbox's desired children and its status (SPEC §4.2–§4.4).
 *
 * Pure but for the one deliberate side effect, the warm-pod claim, which happens through the
 * claimer it is given. Time comes in as `now`: the same request and the same `now` give the
 * same bytes.
 */
import type { Sandbox, SandboxStatus, SandboxPhase } from "../src/api-types.js";
import type { WarmPodClaimer } from "../src/claimer.js";
import { ConditionType, Reason, formatTime, type ConditionInput } from "../src/conditions.js";
import type { NetworkConfig, PodConfig } from "../src/config.js";
import { sandboxChildName, sandboxLabels, sandboxSelector } from "../src/labels.js";
import { allObjects, objectsOfKind, type HookRequest, type HookResponse, type KubeObject } from "../src/metacontroller.js";
import { sandboxNetworkPolicies, type NetworkPolicies } from "../src/network-policy.js";
import { isPodReady, keepObserved, type ObservedPod } from "../src/observed.js";
import { persistentVolumeClaim } from "../src/persistent-volume-claim.js";
import {
  buildPod,
  isPodFailure,
  resolvePodSecurity,
  resolveResources,
  resolveWritablePaths,
  type PodFailure,
  type PodSecurity,
} from "../src/pod.js";
import {
  conditionsOf,
  findRelated,
  previousCondition,
  readyCondition,
  secondsLeft,
  servingPod,
  startTimeOf,
  warmPoolOf,
  warmRequest,
  type SandboxRelated,
} from "../src/sandbox.js";
import { serviceAccount } from "../src/service-account.js";
import { sandboxService, serviceEndpoint } from "../src/service.js";

export interface SandboxSyncDeps {
  config: { network: NetworkConfig; pod: PodConfig };
  claimer: WarmPodClaimer;
  now: Date;
}

export async function sandboxSync(
  request: HookRequest<Sandbox>,
  deps: SandboxSyncDeps,
): Promise<HookResponse<SandboxStatus>> {
  const sandbox = request.parent;
  const previous = sandbox.status;
  const pods = objectsOfKind<ObservedPod>(request.children, "v1", "Pod");
  const pod = servingPod(pods, previous);
  const startTime = startTimeOf(previous, pod, formatTime(deps.now));
  const left = secondsLeft(startTime, sandbox.spec.timeout, deps.now);
  const expired = left !== undefined && left <= 0;

  const related = findRelated(sandbox, request.related);
  if (isPodFailure(related)) {
    return failedKeepingChildren(request, related, { pod, startTime, expired }, deps.now);
  }
  const security = resolvePodSecurity(
    sandbox.spec.securityLevel,
    related.runtime,
    related.profile,
    sandbox.spec.securityContext.seccompProfile,
    deps.config.pod,
  );
  if (isPodFailure(security)) {
    return failedKeepingChildren(request, security, { pod, startTime, expired }, deps.now);
  }

  // The pod: the one that exists, else a claimed warm pod, else a cold one (SPEC §4.2). Never
  // a second pod, and never a new one once the Sandbox has expired.
  let desiredPod: KubeObject | undefined;
  let warmCondition: ConditionInput | undefined = previousCondition(previous, ConditionType.WarmPodClaimed);
  const warm = warmRequest(sandbox);
  if (pod !== undefined) {
    desiredPod = expired ? undefined : keepObserved(pod);
    const pool = warmPoolOf(pod);
    if (pool !== undefined) {
      warmCondition = {
        type: ConditionType.WarmPodClaimed,
        status: "True",
        reason: Reason.Claimed,
        message: `Claimed warm pod ${pod.metadata.name} from WarmPool ${pool}.`,
      };
    }
  } else if (!expired) {
    if (warm !== undefined) {
      const result = await deps.claimer.claim({ sandbox, ...warm });
      if (result.outcome === "claimed") {
        desiredPod = result.pod;
        warmCondition = {
          type: ConditionType.WarmPodClaimed,
          status: "True",
          reason: Reason.Claimed,
          message: `Claimed warm pod ${result.pod.metadata.name} from WarmPool ${result.pool}.`,
        };
      } else {
        warmCondition = { type: ConditionType.WarmPodClaimed, status: "False", reason: result.reason, message: result.message };
      }
    }
    desiredPod ??= coldPod(sandbox, related, security);
  }
  if (warm === undefined && warmPoolOf(pod) === undefined) warmCondition = undefined;

  const network = networkPolicies(sandbox, related, deps.config.network);
  const children = [desiredPod, ...supportingChildren(sandbox), ...network.children].filter(
    (child): child is KubeObject => child !== undefined,
  );

  const phase = phaseOf(pod, expired);
  const status: SandboxStatus = {
    phase,
    conditions: conditionsOf(
      previous,
      [
        podReadiness(pod, phase),
        warmCondition,
        egressCondition(network),
        startTime === undefined
          ? undefined
          : expired
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
                message: `The sandbox's pod is deleted ${sandbox.spec.timeout}s after it started running.`,
              },
      ],
      deps.now,
    ),
    ...podFields(sandbox, expired ? undefined : pod, phase),
    ...(startTime !== undefined ? { startTime } : {}),
  };
  return {
    status,
    children,
    // Wake up when the lifetime ends, even if nothing else changes.
    ...(left !== undefined && !expired ? { resyncAfterSeconds: Math.ceil(left) } : {}),
  };
}

function coldPod(sandbox: Sandbox, related: SandboxRelated, security: PodSecurity): KubeObject {
  const { name, namespace = "", uid = "" } = sandbox.metadata;
  const spec = sandbox.spec;
  const persistent = spec.storage?.persistent === true;
  const pod = buildPod({
    name: sandboxChildName(name),
    namespace,
    labels: sandboxLabels({ name, uid }),
    serviceAccountName: sandboxChildName(name),
    image: related.runtime.spec.image,
    security,
    runAsUser: spec.securityContext.runAsUser,
    runAsGroup: spec.securityContext.runAsGroup,
    readOnlyRoot: spec.filesystem.readOnlyRoot,
    writablePaths: resolveWritablePaths(spec.filesystem.writablePaths, related.profile),
    resources: resolveResources(spec.resources, related.profile, related.runtime),
    cpuPinning: spec.resources.cpuPinning,
    ...(persistent ? { persistentClaimName: sandboxChildName(name, "data") } : {}),
  });
  return pod as KubeObject;
}

/** The ServiceAccount, the Service and, when asked for, the data volume. */
function supportingChildren(sandbox: Sandbox): KubeObject[] {
  const { name, namespace = "", uid = "" } = sandbox.metadata;
  const labels = sandboxLabels({ name, uid });
  const children = [
    serviceAccount({ name: sandboxChildName(name), namespace, labels }),
    sandboxService({ metadata: { name: sandboxChildName(name), namespace, labels }, selector: sandboxSelector(name) }),
  ] as KubeObject[];
  const storage = sandbox.spec.storage;
  if (storage?.persistent === true) {
    children.push(
      persistentVolumeClaim({
        metadata: { name: sandboxChildName(name, "data"), namespace, labels },
        size: storage.volumeSize,
        ...(storage.storageClass !== undefined ? { storageClass: storage.storageClass } : {}),
      }) as KubeObject,
    );
  }
  return children;
}

function networkPolicies(sandbox: Sandbox, related: SandboxRelated, config: NetworkConfig): NetworkPolicies {
  const { name, namespace = "", uid = "" } = sandbox.metadata;
  const profileRules = related.profile?.spec.networkPolicies ?? [];
  return sandboxNetworkPolicies({
    sandboxName: name,
    namespace,
    labels: sandboxLabels({ name, uid }),
    podSelector: sandboxSelector(name),
    egress: [
      ...(sandbox.spec.networkAccess.egress ?? []),
      ...profileRules.filter((p) => p.type === "egress").flatMap((p) => p.rules ?? []),
    ],
    ingressFromCluster: sandbox.spec.networkAccess.ingress,
    profileIngress: profileRules.filter((p) => p.type === "ingress").flatMap((p) => p.rules ?? []),
    config,
  });
}

function phaseOf(pod: ObservedPod | undefined, expired: boolean): SandboxPhase {
  if (expired) return "Terminated";
  if (pod === undefined) return "Pending";
  if (pod.status?.phase === "Failed") return "Failed";
  return isPodReady(pod) ? "Running" : "Creating";
}

function podReadiness(pod: ObservedPod | undefined, phase: SandboxPhase): ConditionInput {
  switch (phase) {
    case "Running":
      return readyCondition("True", Reason.PodRunning, `Pod ${pod?.metadata.name ?? ""} is ready.`);
    case "Terminated":
      return readyCondition("False", Reason.TimeoutExceeded, "The sandbox's timeout has passed; it no longer runs.");
    case "Failed":
      return readyCondition(
        "False",
        Reason.PodFailed,
        `Pod ${pod?.metadata.name ?? ""} failed${pod?.status?.reason !== undefined ? ` (${pod.status.reason})` : ""}` +
          (pod?.status?.message !== undefined ? `: ${pod.status.message}` : "."),
      );
    case "Creating":
      return readyCondition("False", Reason.PodNotReady, `Pod ${pod?.metadata.name ?? ""} is not ready yet.`);
    default:
      return readyCondition("False", Reason.PodPending, "The sandbox's pod has not been created yet.");
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
function podFields(sandbox: Sandbox, pod: ObservedPod | undefined, phase: SandboxPhase): Partial<SandboxStatus> {
  if (pod === undefined) return {};
  const namespace = pod.metadata.namespace ?? sandbox.metadata.namespace ?? "";
  const pool = warmPoolOf(pod);
  return {
    podName: pod.metadata.name,
    podNamespace: namespace,
    ...(phase === "Running"
      ? { endpoint: serviceEndpoint(sandboxChildName(sandbox.metadata.name), sandbox.metadata.namespace ?? "") }
      : {}),
    ...(pool !== undefined ? { warmPodRef: { name: pod.metadata.name, namespace, pool } } : {}),
  };
}

/**
 * A related object is missing or the level cannot be honoured: report `Failed` and keep every
 * observed child as it is — a RuntimeEnvironment that is briefly missing must not take a running
 * sandbox down. The one exception is the lifetime: an expired sandbox's pod still goes.
 */
function failedKeepingChildren(
  request: HookRequest<Sandbox>,
  failure: PodFailure,
  observed: { pod: ObservedPod | undefined; startTime: string | undefined; expired: boolean },
  now: Date,
): HookResponse<SandboxStatus> {
  const sandbox = request.parent;
  const previous = sandbox.status;
  const children = allObjects(request.children)
    .filter((child) => !(observed.expired && child.kind === "Pod" && child.apiVersion === "v1"))
    .map(keepObserved);
  const pod = observed.expired ? undefined : observed.pod;
  return {
    status: {
      phase: "Failed",
      conditions: conditionsOf(
        previous,
        [
          readyCondition("False", failure.reason, failure.message),
          previousCondition(previous, ConditionType.WarmPodClaimed),
          previousCondition(previous, ConditionType.EgressDomainsEnforced),
          previousCondition(previous, ConditionType.Expired),
        ],
        now,
      ),
      ...podFields(sandbox, pod, "Failed"),
      ...(observed.startTime !== undefined ? { startTime: observed.startTime } : {}),
    },
    children,
  };
}
