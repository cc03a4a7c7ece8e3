/**
 * The llmsafespace.dev/v1 resources as the hooks see them: validated against `crds/` and with
 * the CRD defaults applied (the API server applies them too), so a defaulted field is never
 * undefined here. `crds/*.yaml` is the source of truth; these types mirror it.
 */
import type { KubeObject } from "./metacontroller.js";

export const GROUP = "llmsafespace.dev";
export const API_VERSION = `${GROUP}/v1`;

export type SecurityLevel = "standard" | "high" | "custom";
export type Protocol = "TCP" | "UDP";
/** A Kubernetes quantity, as JSON gives it: `512Mi`, `500m`, or a plain integer. */
export type Quantity = string | number;

export interface PortRule {
  port: number;
  /** @default "TCP" */
  protocol: Protocol;
}

/** One egress rule: a destination named by `domain`, by `cidr`, or both, on some ports. */
export interface EgressRule {
  domain?: string;
  cidr?: string;
  ports?: PortRule[];
}

export interface ResourceSettings {
  cpu?: Quantity;
  memory?: Quantity;
  ephemeralStorage?: Quantity;
}

export interface SeccompProfileSetting {
  type: "RuntimeDefault" | "Localhost";
  localhostProfile?: string;
}

export interface ProfileRef {
  name: string;
  namespace?: string;
}

/**
 * What a Sandbox and a WarmPool share: a runtime, which names a RuntimeEnvironment, and an optional
 * SandboxProfile. Both find their related objects by the same rules (SPEC §4.1, §6).
 */
export interface RuntimeUser extends KubeObject {
  spec: {
    runtime: string;
    profileRef?: ProfileRef;
  };
}

export interface SandboxSpec {
  runtime: string;
  /** @default "standard" */
  securityLevel: SecurityLevel;
  /** Seconds the Sandbox may live once Running. @default 300 */
  timeout: number;
  /** @default {} */
  resources: ResourceSettings & {
    /** @default false */
    cpuPinning: boolean;
  };
  /** @default {} */
  networkAccess: {
    egress?: EgressRule[];
    /** @default false */
    ingress: boolean;
  };
  /** @default {} */
  filesystem: {
    /** @default true */
    readOnlyRoot: boolean;
    /** @default ["/tmp", "/workspace"] */
    writablePaths: string[];
  };
  storage?: {
    /** @default false */
    persistent: boolean;
    /** @default "5Gi" */
    volumeSize: Quantity;
    storageClass?: string;
  };
  /** @default {} */
  securityContext: {
    /** @default 1000 */
    runAsUser: number;
    /** @default 1000 */
    runAsGroup: number;
    seccompProfile?: SeccompProfileSetting;
  };
  profileRef?: ProfileRef;
  /** true: the pod is deleted and the rest kept; false or unset: the Sandbox runs. */
  suspend?: boolean;
  lifecycle?: {
    /** Seconds without activity after which the Sandbox is idle; unset: never. */
    idleTimeout?: number;
    /** @default "Suspend" */
    onIdle: "Suspend" | "Terminate";
  };
}

export type ConditionStatus = "True" | "False" | "Unknown";

/** A status condition, as metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export type SandboxPhase = "Pending" | "Creating" | "Running" | "Suspended" | "Terminated" | "Terminating" | "Failed";

export interface WarmPodRef {
  name: string;
  namespace: string;
  pool: string;
}

export interface SandboxStatus {
  phase?: SandboxPhase;
  conditions?: Condition[];
  podName?: string;
  podNamespace?: string;
  endpoint?: string;
  startTime?: string;
  /** When the current run began, once the Sandbox has been suspended and resumed. */
  runningSince?: string;
  /** Seconds of Running before the current run, once the Sandbox has been suspended. */
  runningSeconds?: number;
  /** What `spec.suspend` was when the Sandbox went idle and suspended itself; it stays suspended until that changes. */
  specSuspendAtIdle?: "Unset" | "False";
  /** Seconds from the creation of the last resumed pod (a warm pod's claim) to its Ready. */
  lastResumeSeconds?: number;
  /** When the Sandbox goes idle without further activity. */
  idleDeadline?: string;
  warmPodRef?: WarmPodRef;
  observedGeneration?: number;
}

export interface Sandbox extends KubeObject {
  spec: SandboxSpec;
  status?: SandboxStatus;
}

export interface WarmPoolSpec {
  runtime: string;
  /** @default "standard" */
  securityLevel: SecurityLevel;
  /** Warm pods (available or starting) the pool keeps at all times. */
  minSize: number;
  /** Most warm pods the pool keeps, whatever autoscaling asks; 0 is no limit. @default 0 */
  maxSize: number;
  /** Age in seconds at which a ready, unclaimed pod is retired and replaced; 0 keeps it. @default 3600 */
  ttl: number;
  resources?: ResourceSettings;
  profileRef?: ProfileRef;
  preloadPackages?: string[];
  preloadScripts?: { name: string; content: string }[];
  /** @default {} */
  autoScaling: {
    /** @default false */
    enabled: boolean;
    /** Percent of the pool's pods that may be claimed. @default 80 */
    targetUtilization: number;
    /** Seconds after `lastScaleTime` before spare pods are retired. @default 300 */
    scaleDownDelay: number;
  };
  /** @default {} */
  recycle: {
    /** @default false */
    enabled: boolean;
    /** @default 86400 */
    maxPodAge: number;
    /** @default 3 */
    maxRecycleCount: number;
    /** @default 0 */
    minRuntimeBeforeRecycle: number;
  };
}

export interface WarmPoolStatus {
  /** Warm pods that are Ready and waiting to be claimed. */
  availablePods?: number;
  /** The pool's pods that Sandboxes have claimed. */
  assignedPods?: number;
  /** Warm pods that are not Ready yet. */
  pendingPods?: number;
  /** When the pool last created or retired pods; `scaleDownDelay` counts from here. */
  lastScaleTime?: string;
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface WarmPool extends KubeObject {
  spec: WarmPoolSpec;
  status?: WarmPoolStatus;
}

export type SecurityFeature = "seccomp" | "apparmor" | "gvisor" | "no-new-privs";

export interface RuntimeEnvironment extends KubeObject {
  spec: {
    image: string;
    language: string;
    version?: string;
    tags?: string[];
    preInstalledPackages?: string[];
    packageManager?: string;
    securityFeatures?: SecurityFeature[];
    resourceRequirements?: {
      minCpu?: Quantity;
      minMemory?: Quantity;
      recommendedCpu?: Quantity;
      recommendedMemory?: Quantity;
    };
  };
}

export interface ProfileNetworkPolicy {
  type: "egress" | "ingress";
  rules?: EgressRule[];
}

export interface SandboxProfile extends KubeObject {
  spec: {
    language: string;
    securityLevel?: SecurityLevel;
    /** A Localhost seccomp profile, relative to the kubelet's seccomp root. */
    seccompProfile?: string;
    networkPolicies?: ProfileNetworkPolicy[];
    preInstalledPackages?: string[];
    resourceDefaults?: ResourceSettings;
    filesystemConfig?: {
      readOnlyPaths?: string[];
      writablePaths?: string[];
    };
  };
}
