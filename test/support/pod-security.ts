/**
 * The Pod Security Standards "restricted" profile — which contains every "baseline" control — as a
 * test oracle for the Pods and pod templates the hooks produce.
 *
 * It follows the Pod Security Admission checks (`k8s.io/pod-security-admission/policy/check_*.go`)
 * at the newest released policy version rather than the prose of
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/, because the page has lagged
 * the code (it missed the `image` volume type and the 1.32 sysctls, for instance). Where the two
 * differ, this file sides with the code, and where it deliberately differs from both it says so:
 *
 * - Each misconfiguration is reported by exactly one rule: the least strict control it breaks.
 *   Pod Security Admission lets a restricted check *override* its baseline twin (capabilities,
 *   seccomp, hostPath volumes), which makes one mistake fail two checks there. Here the restricted
 *   rule only reports what its baseline twin lets through, so the union of all rules is exactly
 *   the restricted verdict and a failing test names a single control.
 * - No relaxation for user-namespaced pods (`hostUsers: false` skips runAsNonRoot/runAsUser in
 *   policy 1.35+) and no exemption for `spec.os.name: windows` (policy 1.25+). Sandboxes run
 *   untrusted code on Linux; holding them to the stricter reading costs nothing and keeps this
 *   oracle from passing a pod just because it claims to be something it is not.
 * - Sysctls: the safe set of policy 1.32–1.36. The two names added for policy 1.37
 *   (`net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat`) are treated as unsafe
 *   until that policy version is what clusters run.
 */

/** Optional in a plain JSON object: absent, `null`, or a value. */
type Maybe<T> = T | null | undefined;

/** `securityContext.seccompProfile` / `appArmorProfile`. */
export interface ProfileLike {
  readonly type?: Maybe<string>;
  readonly localhostProfile?: Maybe<string>;
}

/** `securityContext.seLinuxOptions`. */
export interface SELinuxOptionsLike {
  readonly type?: Maybe<string>;
  readonly user?: Maybe<string>;
  readonly role?: Maybe<string>;
  readonly level?: Maybe<string>;
}

/** The security-relevant fields shared by the pod-level and the container-level securityContext. */
export interface CommonSecurityContextLike {
  readonly runAsNonRoot?: Maybe<boolean>;
  readonly runAsUser?: Maybe<number>;
  readonly seccompProfile?: Maybe<ProfileLike>;
  readonly appArmorProfile?: Maybe<ProfileLike>;
  readonly seLinuxOptions?: Maybe<SELinuxOptionsLike>;
  readonly windowsOptions?: Maybe<{ readonly hostProcess?: Maybe<boolean> }>;
}

/** `spec.securityContext`. */
export interface PodSecurityContextLike extends CommonSecurityContextLike {
  readonly sysctls?: Maybe<readonly { readonly name?: Maybe<string>; readonly value?: Maybe<string> }[]>;
}

/** `spec.containers[*].securityContext`. */
export interface ContainerSecurityContextLike extends CommonSecurityContextLike {
  readonly privileged?: Maybe<boolean>;
  readonly allowPrivilegeEscalation?: Maybe<boolean>;
  readonly procMount?: Maybe<string>;
  readonly capabilities?: Maybe<{
    readonly add?: Maybe<readonly string[]>;
    readonly drop?: Maybe<readonly string[]>;
  }>;
}

/** A probe or lifecycle handler: only the parts that can point at another host. */
export interface HandlerLike {
  readonly httpGet?: Maybe<{ readonly host?: Maybe<string> }>;
  readonly tcpSocket?: Maybe<{ readonly host?: Maybe<string> }>;
}

/** A container, init container or ephemeral container. */
export interface ContainerLike {
  readonly name?: Maybe<string>;
  readonly ports?: Maybe<readonly { readonly hostPort?: Maybe<number> }[]>;
  readonly securityContext?: Maybe<ContainerSecurityContextLike>;
  readonly livenessProbe?: Maybe<HandlerLike>;
  readonly readinessProbe?: Maybe<HandlerLike>;
  readonly startupProbe?: Maybe<HandlerLike>;
  readonly lifecycle?: Maybe<{ readonly postStart?: Maybe<HandlerLike>; readonly preStop?: Maybe<HandlerLike> }>;
}

/**
 * A pod volume. The volume source is whichever other key is set; the rules enumerate the keys at
 * run time instead of typing every source, so an unknown or misspelt source is still caught.
 */
export interface VolumeLike {
  readonly name?: Maybe<string>;
  readonly hostPath?: unknown;
}

/** `spec` of a Pod, or `spec.template.spec` of a workload. */
export interface PodSpecLike {
  readonly hostNetwork?: Maybe<boolean>;
  readonly hostPID?: Maybe<boolean>;
  readonly hostIPC?: Maybe<boolean>;
  readonly securityContext?: Maybe<PodSecurityContextLike>;
  readonly initContainers?: Maybe<readonly ContainerLike[]>;
  readonly containers?: Maybe<readonly ContainerLike[]>;
  readonly ephemeralContainers?: Maybe<readonly ContainerLike[]>;
  readonly volumes?: Maybe<readonly VolumeLike[]>;
}

/** The metadata the standards look at: AppArmor annotations. */
export interface PodMetadataLike {
  readonly name?: Maybe<string>;
  readonly annotations?: Maybe<Readonly<Record<string, string>>>;
}

/**
 * A Pod as plain JSON — what a webhook returns, not a client-library class. Every field is
 * optional and may be `null`, so `V1Pod` from `@kubernetes/client-node`, the hooks' own child
 * types and raw parsed JSON all fit.
 */
export interface PodLike {
  readonly metadata?: Maybe<PodMetadataLike>;
  readonly spec?: Maybe<PodSpecLike>;
}

/** One Pod Security Standards control. */
export interface PodSecurityRule {
  /** The Pod Security Admission check ID, e.g. `seccompProfile_restricted`. */
  id: string;
  /** The lowest profile that enforces the control; "restricted" includes every "baseline" rule. */
  level: "baseline" | "restricted";
  /** The control's name as the published standard lists it, e.g. "Seccomp". */
  title: string;
  /** Human-readable violations naming the container (or pod) and the field; empty when compliant. */
  check(pod: PodLike): string[];
}

const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ping_group_range",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.tcp_wmem",
]);

/** The empty type means "let the runtime choose", which is the runtime's confined default. */
const SELINUX_TYPES: ReadonlySet<string> = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

const RESTRICTED_VOLUME_SOURCES: ReadonlySet<string> = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

const CONFINED_PROFILE_TYPES: ReadonlySet<string> = new Set(["RuntimeDefault", "Localhost"]);

const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

interface VisitedContainer {
  readonly container: ContainerLike;
  /** Field path of the container, e.g. `spec.initContainers[0]`. */
  readonly path: string;
  /** How violations name it, e.g. `container "sandbox" (spec.containers[0])`. */
  readonly label: string;
}

/** Admission visits init, regular and ephemeral containers alike; sidecars get no exemption. */
function* containersOf(spec: PodSpecLike): Generator<VisitedContainer> {
  const lists = [
    ["initContainers", spec.initContainers],
    ["containers", spec.containers],
    ["ephemeralContainers", spec.ephemeralContainers],
  ] as const;
  for (const [field, list] of lists) {
    for (const [index, container] of (list ?? []).entries()) {
      const path = `spec.${field}[${index}]`;
      const name = container.name ? JSON.stringify(container.name) : "(unnamed)";
      yield { container, path, label: `container ${name} (${path})` };
    }
  }
}

function show(value: unknown): string {
  return value === undefined || value === null ? "unset" : JSON.stringify(value);
}

function isOn(value: Maybe<boolean>): boolean {
  return value === true;
}

function isConfinedProfile(profile: ProfileLike): boolean {
  return CONFINED_PROFILE_TYPES.has(profile.type ?? "");
}

type SpecCheck = (spec: PodSpecLike, metadata: PodMetadataLike) => string[];

function rule(id: string, level: PodSecurityRule["level"], title: string, checkSpec: SpecCheck): PodSecurityRule {
  return {
    id,
    level,
    title,
    check: (pod) => checkSpec(pod.spec ?? {}, pod.metadata ?? {}),
  };
}

/** Checks a profile field that may be set on the pod and on each container. */
function profileViolations(
  spec: PodSpecLike,
  field: "seccompProfile" | "appArmorProfile",
  expectation: string,
): string[] {
  const out: string[] = [];
  const podProfile = spec.securityContext?.[field];
  if (podProfile && !isConfinedProfile(podProfile)) {
    out.push(`pod: spec.securityContext.${field}.type must be ${expectation}, got ${show(podProfile.type)}`);
  }
  for (const { container, label } of containersOf(spec)) {
    const profile = container.securityContext?.[field];
    if (profile && !isConfinedProfile(profile)) {
      out.push(`${label}: securityContext.${field}.type must be ${expectation}, got ${show(profile.type)}`);
    }
  }
  return out;
}

function hostsIn(handler: Maybe<HandlerLike>, name: string): [field: string, host: string][] {
  const found: [string, string][] = [];
  const httpHost = handler?.httpGet?.host;
  const tcpHost = handler?.tcpSocket?.host;
  if (httpHost) found.push([`${name}.httpGet.host`, httpHost]);
  if (tcpHost) found.push([`${name}.tcpSocket.host`, tcpHost]);
  return found;
}

const hostProcess = rule("windowsHostProcess", "baseline", "HostProcess", (spec) => {
  const out: string[] = [];
  if (isOn(spec.securityContext?.windowsOptions?.hostProcess)) {
    out.push("pod: spec.securityContext.windowsOptions.hostProcess must be unset or false, got true");
  }
  for (const { container, label } of containersOf(spec)) {
    if (isOn(container.securityContext?.windowsOptions?.hostProcess)) {
      out.push(`${label}: securityContext.windowsOptions.hostProcess must be unset or false, got true`);
    }
  }
  return out;
});

const hostNamespaces = rule("hostNamespaces", "baseline", "Host Namespaces", (spec) =>
  (["hostNetwork", "hostPID", "hostIPC"] as const)
    .filter((field) => isOn(spec[field]))
    .map((field) => `pod: spec.${field} must be unset or false, got ${show(spec[field])}`),
);

const privileged = rule("privileged", "baseline", "Privileged Containers", (spec) =>
  [...containersOf(spec)]
    .filter(({ container }) => isOn(container.securityContext?.privileged))
    .map(({ container, label }) =>
      `${label}: securityContext.privileged must be unset or false, got ${show(container.securityContext?.privileged)}`,
    ),
);

const capabilitiesBaseline = rule("capabilities_baseline", "baseline", "Capabilities", (spec) => {
  const out: string[] = [];
  for (const { container, label } of containersOf(spec)) {
    const added = container.securityContext?.capabilities?.add ?? [];
    const forbidden = added.filter((capability) => !BASELINE_CAPABILITIES.has(capability));
    if (forbidden.length > 0) {
      out.push(
        `${label}: securityContext.capabilities.add must only hold the runtime's default capabilities, ` +
          `got ${forbidden.map((c) => JSON.stringify(c)).join(", ")}`,
      );
    }
  }
  return out;
});

const hostPathVolumes = rule("hostPathVolumes", "baseline", "HostPath Volumes", (spec) =>
  (spec.volumes ?? []).flatMap((volume, index) =>
    volume.hostPath === undefined || volume.hostPath === null
      ? []
      : [`volume ${show(volume.name)} (spec.volumes[${index}]): hostPath volumes are forbidden`],
  ),
);

const hostPorts = rule("hostPorts", "baseline", "Host Ports", (spec) => {
  const out: string[] = [];
  for (const { container, label } of containersOf(spec)) {
    for (const [index, port] of (container.ports ?? []).entries()) {
      if (port.hostPort !== undefined && port.hostPort !== null && port.hostPort !== 0) {
        out.push(`${label}: ports[${index}].hostPort must be unset or 0, got ${show(port.hostPort)}`);
      }
    }
  }
  return out;
});

const appArmor = rule("appArmorProfile", "baseline", "AppArmor", (spec, metadata) => {
  const out = profileViolations(spec, "appArmorProfile", '"RuntimeDefault" or "Localhost"');
  // The beta annotations are deprecated but still honoured by admission, so a pod can still use
  // them to switch AppArmor off.
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    if (value === "" || value === "runtime/default" || value.startsWith("localhost/")) continue;
    out.push(
      `pod: metadata.annotations[${JSON.stringify(key)}] must be "runtime/default" or "localhost/<profile>", ` +
        `got ${show(value)}`,
    );
  }
  return out;
});

const seLinux = rule("seLinuxOptions", "baseline", "SELinux", (spec) => {
  const problems = (options: SELinuxOptionsLike, prefix: string): string[] => {
    const found: string[] = [];
    if (!SELINUX_TYPES.has(options.type ?? "")) {
      found.push(`${prefix}.type must be unset or one of ${[...SELINUX_TYPES].filter(Boolean).join(", ")}, got ${show(options.type)}`);
    }
    if (options.user) found.push(`${prefix}.user must be unset, got ${show(options.user)}`);
    if (options.role) found.push(`${prefix}.role must be unset, got ${show(options.role)}`);
    return found;
  };
  const out: string[] = [];
  const podOptions = spec.securityContext?.seLinuxOptions;
  if (podOptions) {
    out.push(...problems(podOptions, "spec.securityContext.seLinuxOptions").map((p) => `pod: ${p}`));
  }
  for (const { container, label } of containersOf(spec)) {
    const options = container.securityContext?.seLinuxOptions;
    if (options) out.push(...problems(options, "securityContext.seLinuxOptions").map((p) => `${label}: ${p}`));
  }
  return out;
});

const procMount = rule("procMount", "baseline", "/proc Mount Type", (spec) =>
  [...containersOf(spec)].flatMap(({ container, label }) => {
    const value = container.securityContext?.procMount;
    return value === undefined || value === null || value === "Default"
      ? []
      : [`${label}: securityContext.procMount must be unset or "Default", got ${show(value)}`];
  }),
);

/** Every explicitly set seccomp profile must confine; a missing one is the restricted rule's business. */
const seccompBaseline = rule("seccompProfile_baseline", "baseline", "Seccomp", (spec) =>
  profileViolations(spec, "seccompProfile", '"RuntimeDefault" or "Localhost"'),
);

const sysctls = rule("sysctls", "baseline", "Sysctls", (spec) =>
  (spec.securityContext?.sysctls ?? []).flatMap((sysctl, index) =>
    SAFE_SYSCTLS.has(sysctl.name ?? "")
      ? []
      : [`pod: spec.securityContext.sysctls[${index}].name ${show(sysctl.name)} is not in the safe sysctl set`],
  ),
);

const hostProbes = rule("hostProbesAndHostLifecycle", "baseline", "Probes / Lifecycle Hooks", (spec) => {
  const out: string[] = [];
  for (const { container, label } of containersOf(spec)) {
    const found = [
      ...hostsIn(container.livenessProbe, "livenessProbe"),
      ...hostsIn(container.readinessProbe, "readinessProbe"),
      ...hostsIn(container.startupProbe, "startupProbe"),
      ...hostsIn(container.lifecycle?.postStart, "lifecycle.postStart"),
      ...hostsIn(container.lifecycle?.preStop, "lifecycle.preStop"),
    ];
    for (const [field, host] of found) out.push(`${label}: ${field} must be unset or empty, got ${show(host)}`);
  }
  return out;
});

const restrictedVolumes = rule("restrictedVolumes", "restricted", "Volume Types", (spec) =>
  (spec.volumes ?? []).flatMap((volume, index) => {
    const sources = Object.entries(volume as Readonly<Record<string, unknown>>)
      .filter(([key, value]) => key !== "name" && value !== undefined && value !== null)
      .map(([key]) => key);
    // A volume with no source at all is defaulted to emptyDir by the API server before admission,
    // and hostPath is the baseline rule's to report.
    if (sources.length === 0 || sources.includes("hostPath")) return [];
    if (sources.some((source) => RESTRICTED_VOLUME_SOURCES.has(source))) return [];
    return [
      `volume ${show(volume.name)} (spec.volumes[${index}]): type ${sources.map((s) => JSON.stringify(s)).join(", ")} ` +
        `is not allowed; use one of ${[...RESTRICTED_VOLUME_SOURCES].join(", ")}`,
    ];
  }),
);

const allowPrivilegeEscalation = rule("allowPrivilegeEscalation", "restricted", "Privilege Escalation", (spec) =>
  [...containersOf(spec)].flatMap(({ container, label }) => {
    const value = container.securityContext?.allowPrivilegeEscalation;
    return value === false ? [] : [`${label}: securityContext.allowPrivilegeEscalation must be false, got ${show(value)}`];
  }),
);

/** A container may leave runAsNonRoot unset only when the pod sets it to true. */
const runAsNonRoot = rule("runAsNonRoot", "restricted", "Running as Non-root", (spec) => {
  const out: string[] = [];
  const podValue = spec.securityContext?.runAsNonRoot;
  if (podValue === false) {
    out.push("pod: spec.securityContext.runAsNonRoot must be true or unset, got false");
  }
  for (const { container, label } of containersOf(spec)) {
    const value = container.securityContext?.runAsNonRoot;
    if (value === false) {
      out.push(`${label}: securityContext.runAsNonRoot must be true or unset, got false`);
    } else if ((value === undefined || value === null) && podValue !== true) {
      out.push(`${label}: securityContext.runAsNonRoot must be true, here or at pod level, but neither sets it`);
    }
  }
  return out;
});

const runAsUser = rule("runAsUser", "restricted", "Running as Non-root user", (spec) => {
  const out: string[] = [];
  if (spec.securityContext?.runAsUser === 0) {
    out.push("pod: spec.securityContext.runAsUser must not be 0");
  }
  for (const { container, label } of containersOf(spec)) {
    if (container.securityContext?.runAsUser === 0) out.push(`${label}: securityContext.runAsUser must not be 0`);
  }
  return out;
});

/**
 * A container without its own seccomp profile is covered only by a pod-level one. A pod-level
 * profile that is set but unconfined already fails the baseline rule, so it is not repeated here.
 */
const seccompRestricted = rule("seccompProfile_restricted", "restricted", "Seccomp", (spec) => {
  const podProfile = spec.securityContext?.seccompProfile;
  if (podProfile !== undefined && podProfile !== null) return [];
  return [...containersOf(spec)].flatMap(({ container, label }) => {
    const profile = container.securityContext?.seccompProfile;
    return profile === undefined || profile === null
      ? [
          `${label}: securityContext.seccompProfile.type must be "RuntimeDefault" or "Localhost", ` +
            "here or at pod level, but neither sets it",
        ]
      : [];
  });
});

/** Adds outside the baseline set already fail the baseline rule; this one catches the rest. */
const capabilitiesRestricted = rule("capabilities_restricted", "restricted", "Capabilities", (spec) => {
  const out: string[] = [];
  for (const { container, label } of containersOf(spec)) {
    const capabilities = container.securityContext?.capabilities;
    if (!(capabilities?.drop ?? []).includes("ALL")) {
      out.push(`${label}: securityContext.capabilities.drop must include "ALL", got ${show(capabilities?.drop)}`);
    }
    const extra = (capabilities?.add ?? []).filter((c) => c !== "NET_BIND_SERVICE" && BASELINE_CAPABILITIES.has(c));
    if (extra.length > 0) {
      out.push(
        `${label}: securityContext.capabilities.add may only hold "NET_BIND_SERVICE", ` +
          `got ${extra.map((c) => JSON.stringify(c)).join(", ")}`,
      );
    }
  }
  return out;
});

/**
 * Every control of the restricted profile, baseline controls first, in the order of the published
 * standard. Each misconfiguration is reported by exactly one of them (see the module comment).
 */
export const RESTRICTED_RULES: readonly PodSecurityRule[] = Object.freeze([
  hostProcess,
  hostNamespaces,
  privileged,
  capabilitiesBaseline,
  hostPathVolumes,
  hostPorts,
  appArmor,
  seLinux,
  procMount,
  seccompBaseline,
  sysctls,
  hostProbes,
  restrictedVolumes,
  allowPrivilegeEscalation,
  runAsNonRoot,
  runAsUser,
  seccompRestricted,
  capabilitiesRestricted,
]);

/**
 * All restricted-profile violations of a Pod, each prefixed with its control, e.g.
 * `Seccomp (restricted): container "sandbox" (spec.containers[0]): …`. Empty when compliant.
 */
export function restrictedViolations(pod: PodLike): string[] {
  return RESTRICTED_RULES.flatMap((r) => r.check(pod).map((violation) => `${r.title} (${r.level}): ${violation}`));
}

/**
 * {@link restrictedViolations} for a pod template (`spec.template` of a Deployment and the like):
 * admission applies the same standard to the Pods a workload will create.
 */
export function restrictedViolationsForSpec(spec: PodSpecLike, metadata?: PodMetadataLike | null): string[] {
  return restrictedViolations({ spec, metadata });
}
