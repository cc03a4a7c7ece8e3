/**
 * The one pod builder (SPEC §5), shared by sandbox pods and warm pods, and the rules that turn a
 * security level, a SandboxProfile and a RuntimeEnvironment into pod settings.
 *
 * Every pod it builds is admitted under Pod Security Standard "restricted":
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
import type { V1Container, V1Pod, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type {
  Quantity,
  ResourceSettings,
  RuntimeEnvironment,
  SandboxProfile,
  SeccompProfileSetting,
  SecurityLevel,
} from "../api/index.js";
import { Reason } from "../api/index.js";
import { ANNOTATION_CPU_PINNING, dnsLabel } from "./labels.js";

/** What the pod builder needs to know about the cluster. */
export interface PodConfig {
  /** RuntimeClass of `high` sandboxes. @default "gvisor" */
  gvisorRuntimeClass: string;
}

/** The port the sandbox runtime serves on; Services and NetworkPolicies point here. */
export const SANDBOX_PORT = 8080;
export const SANDBOX_PORT_NAME = "http";
export const CONTAINER_NAME = "sandbox";
/** Where a pod reads its own labels and annotations (a claimed warm pod learns its sandbox here). */
export const POD_INFO_PATH = "/etc/llmsafespace";
export const DATA_PATH = "/data";

const POD_INFO_VOLUME = "podinfo";
const DATA_VOLUME = "data";

/** The fallback when neither the Sandbox, its profile nor the RuntimeEnvironment names a size. */
export const DEFAULT_RESOURCES = { cpu: "500m", memory: "512Mi", ephemeralStorage: "1Gi" } as const;

/** Why a pod cannot be built: becomes the Sandbox's `Failed` phase and `Ready` condition. */
export interface PodFailure {
  reason: string;
  message: string;
}

/** Security settings resolved from the level, the profile and the RuntimeEnvironment. */
export interface PodSecurity {
  seccompProfile: SeccompProfileSetting;
  runtimeClassName?: string;
}

/**
 * The seccomp profile and runtime class for a security level (SPEC §5).
 *
 * - `standard`: RuntimeDefault seccomp.
 * - `high`: standard plus the gVisor RuntimeClass; the RuntimeEnvironment must list `gvisor`.
 * - `custom`: the Localhost seccomp profile its SandboxProfile names; one is required.
 *
 * A Sandbox cannot choose a Localhost profile itself: any file on the node would do, including
 * one that allows everything. It may repeat the profile's path under `custom`, as a check.
 */
export function resolvePodSecurity(
  level: SecurityLevel,
  runtime: RuntimeEnvironment,
  profile: SandboxProfile | undefined,
  ownSeccomp: SeccompProfileSetting | undefined,
  config: PodConfig,
): PodSecurity | PodFailure {
  const ownLocalhost = ownSeccomp?.type === "Localhost" ? ownSeccomp.localhostProfile : undefined;
  if (ownLocalhost !== undefined && level !== "custom") {
    return {
      reason: Reason.SeccompProfileNotAllowed,
      message:
        `securityLevel "${level}" always runs with the RuntimeDefault seccomp profile. A Localhost profile ` +
        `needs securityLevel "custom" and a SandboxProfile whose spec.seccompProfile names it.`,
    };
  }
  switch (level) {
    case "standard":
      return { seccompProfile: { type: "RuntimeDefault" } };
    case "high": {
      const features = runtime.spec.securityFeatures ?? [];
      if (!features.includes("gvisor")) {
        return {
          reason: Reason.RuntimeNotSupported,
          message:
            `securityLevel "high" runs the pod under gVisor, but RuntimeEnvironment ${runtime.metadata.name} ` +
            `does not list "gvisor" in spec.securityFeatures. Use a runtime built for gVisor or choose "standard".`,
        };
      }
      return { seccompProfile: { type: "RuntimeDefault" }, runtimeClassName: config.gvisorRuntimeClass };
    }
    case "custom": {
      const path = profile?.spec.seccompProfile;
      if (path === undefined) {
        return {
          reason: Reason.SeccompProfileRequired,
          message:
            `securityLevel "custom" runs with the Localhost seccomp profile of its SandboxProfile: name a ` +
            `SandboxProfile in spec.profileRef and set spec.seccompProfile on it.`,
        };
      }
      if (ownLocalhost !== undefined && ownLocalhost !== path) {
        return {
          reason: Reason.SeccompProfileNotAllowed,
          message:
            `spec.securityContext.seccompProfile names "${ownLocalhost}", but SandboxProfile ` +
            `${profile?.metadata.name ?? ""} sets "${path}"; the SandboxProfile decides. Remove the Sandbox's ` +
            `own seccompProfile or make the two agree.`,
        };
      }
      return { seccompProfile: { type: "Localhost", localhostProfile: path } };
    }
  }
}

/** True when a resolver returned a failure instead of settings. */
export function isPodFailure(value: object): value is PodFailure {
  return "reason" in value && "message" in value;
}

/** Resource sizes with every field decided. */
export interface Resources {
  cpu: string;
  memory: string;
  ephemeralStorage: string;
}

/**
 * Each size from the first place that names it: the Sandbox (or pool), then the profile's
 * `resourceDefaults`, then the RuntimeEnvironment's `recommended*`, then {@link DEFAULT_RESOURCES}.
 */
export function resolveResources(
  own: ResourceSettings | undefined,
  profile: SandboxProfile | undefined,
  runtime: RuntimeEnvironment,
): Resources {
  const defaults = profile?.spec.resourceDefaults;
  const recommended = runtime.spec.resourceRequirements;
  return {
    cpu: quantity(own?.cpu ?? defaults?.cpu ?? recommended?.recommendedCpu ?? DEFAULT_RESOURCES.cpu),
    memory: quantity(own?.memory ?? defaults?.memory ?? recommended?.recommendedMemory ?? DEFAULT_RESOURCES.memory),
    ephemeralStorage: quantity(own?.ephemeralStorage ?? defaults?.ephemeralStorage ?? DEFAULT_RESOURCES.ephemeralStorage),
  };
}

function quantity(value: Quantity): string {
  return typeof value === "number" ? String(value) : value;
}

/**
 * The writable paths of a pod: the Sandbox's, then the profile's, each once. A path that equals a
 * read-only path of the profile, lies below one, or holds one (a writable /etc would hide a
 * read-only /etc/app) gets no volume: the profile is the operator's word.
 */
export function resolveWritablePaths(own: readonly string[], profile: SandboxProfile | undefined): string[] {
  const config = profile?.spec.filesystemConfig;
  const readOnly = (config?.readOnlyPaths ?? []).map(trimSlash);
  const paths: string[] = [];
  for (const path of [...own, ...(config?.writablePaths ?? [])].map(trimSlash)) {
    const lockedByProfile = readOnly.some(
      (locked) => path === locked || path.startsWith(`${locked}/`) || locked.startsWith(path === "/" ? "/" : `${path}/`),
    );
    if (!lockedByProfile && !paths.includes(path)) paths.push(path);
  }
  return paths;
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** Everything the pod builder needs; resolved by the caller, so the builder decides nothing. */
export interface PodInput {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccountName: string;
  image: string;
  security: PodSecurity;
  runAsUser: number;
  runAsGroup: number;
  readOnlyRoot: boolean;
  writablePaths: readonly string[];
  resources: Resources;
  cpuPinning: boolean;
  /** A PersistentVolumeClaim to mount at {@link DATA_PATH}. */
  persistentClaimName?: string;
}

/** A hardened pod: non-root, no privilege escalation, all capabilities dropped, seccomp on. */
export function buildPod(input: PodInput): V1Pod {
  const { volumes, mounts } = podVolumes(input);
  const limits = {
    cpu: input.resources.cpu,
    memory: input.resources.memory,
    "ephemeral-storage": input.resources.ephemeralStorage,
  };
  const container: V1Container = {
    name: CONTAINER_NAME,
    image: input.image,
    ports: [{ name: SANDBOX_PORT_NAME, containerPort: SANDBOX_PORT, protocol: "TCP" }],
    // requests = limits: Guaranteed QoS, so a sandbox is never the first to be evicted and
    // never takes more than it was given.
    resources: { requests: { ...limits }, limits },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: input.readOnlyRoot,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    },
    livenessProbe: {
      httpGet: { path: "/health", port: SANDBOX_PORT_NAME },
      initialDelaySeconds: 5,
      periodSeconds: 10,
    },
    readinessProbe: {
      httpGet: { path: "/ready", port: SANDBOX_PORT_NAME },
      initialDelaySeconds: 2,
      periodSeconds: 5,
    },
    volumeMounts: mounts,
  };
  const annotations = { ...input.annotations };
  const nodeSelector: Record<string, string> = {};
  if (input.cpuPinning) {
    nodeSelector["cpu-pinning"] = "true";
    annotations[ANNOTATION_CPU_PINNING] = "true";
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: input.labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      serviceAccountName: input.serviceAccountName,
      // The sandbox runs untrusted code: it gets no API credential and no view of other Services.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(input.security.runtimeClassName !== undefined ? { runtimeClassName: input.security.runtimeClassName } : {}),
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: input.runAsUser,
        runAsGroup: input.runAsGroup,
        fsGroup: input.runAsGroup,
        seccompProfile: { ...input.security.seccompProfile },
      },
      containers: [container],
      volumes,
    },
  };
}

function podVolumes(input: PodInput): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  // A handful of paths: arrays are cheaper here than sets.
  const names = [POD_INFO_VOLUME, DATA_VOLUME];
  for (const path of input.writablePaths) {
    if (path === POD_INFO_PATH || (path === DATA_PATH && input.persistentClaimName !== undefined)) continue;
    const relative = path.startsWith("/") ? path.slice(1) : path;
    let name = dnsLabel(relative === "" ? "root" : relative);
    if (names.includes(name)) name = dnsLabel("writable", name);
    names.push(name);
    volumes.push({ name, emptyDir: {} });
    mounts.push({ name, mountPath: path });
  }
  if (input.persistentClaimName !== undefined) {
    volumes.push({ name: DATA_VOLUME, persistentVolumeClaim: { claimName: input.persistentClaimName } });
    mounts.push({ name: DATA_VOLUME, mountPath: DATA_PATH });
  }
  volumes.push({
    name: POD_INFO_VOLUME,
    downwardAPI: {
      items: [
        { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
        { path: "annotations", fieldRef: { fieldPath: "metadata.annotations" } },
      ],
    },
  });
  mounts.push({ name: POD_INFO_VOLUME, mountPath: POD_INFO_PATH, readOnly: true });
  return { volumes, mounts };
}
