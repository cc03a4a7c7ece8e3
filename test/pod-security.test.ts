import assert from "node:assert/strict";
import { V1Container, V1Pod, V1PodSpec } from "@kubernetes/client-node";
import {
  RESTRICTED_RULES,
  restrictedViolations,
  restrictedViolationsForSpec,
  type PodSecurityRule,
} from "./support/pod-security.js";

/*
 * Plain-JSON shapes for the fixture, as a webhook would build them: the fields the tests mutate are
 * typed, anything else passes through the index signatures.
 */
interface Profile {
  type: string;
  localhostProfile?: string;
}

interface SecurityContext {
  [field: string]: unknown;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: Profile;
  appArmorProfile?: Profile;
  seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string; value: string }[];
}

interface Handler {
  [field: string]: unknown;
  httpGet?: { [field: string]: unknown; host?: string };
  tcpSocket?: { [field: string]: unknown; host?: string };
}

interface Container {
  [field: string]: unknown;
  name: string;
  ports?: { [field: string]: unknown; hostPort?: number }[];
  securityContext: SecurityContext;
  livenessProbe?: Handler;
  lifecycle?: { postStart?: Handler; preStop?: Handler };
}

interface Volume {
  [source: string]: unknown;
  name: string;
}

interface TestPod {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations: Record<string, string> };
  spec: {
    [field: string]: unknown;
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    securityContext: SecurityContext;
    initContainers: Container[];
    containers: Container[];
    ephemeralContainers?: Container[];
    volumes: Volume[];
  };
}

/**
 * A sandbox-shaped Pod that meets the restricted profile with little to spare: pod-level
 * runAsNonRoot and seccomp that the containers inherit, every container dropping ALL and
 * forbidding privilege escalation.
 */
const COMPLIANT_POD: TestPod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "sandbox-abc123",
    namespace: "sandboxes",
    annotations: { "container.apparmor.security.beta.kubernetes.io/sandbox": "runtime/default" },
  },
  spec: {
    automountServiceAccountToken: false,
    hostNetwork: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
      appArmorProfile: { type: "RuntimeDefault" },
      sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "1024" }],
    },
    initContainers: [
      {
        name: "setup",
        image: "registry.example/sandbox-setup:1.0",
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
      },
    ],
    containers: [
      {
        name: "sandbox",
        image: "registry.example/python-runtime:3.12",
        ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
        livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
        securityContext: {
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
        },
        volumeMounts: [
          { name: "workspace", mountPath: "/workspace" },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
    ],
    volumes: [
      { name: "workspace", emptyDir: { sizeLimit: "1Gi" } },
      { name: "tmp", emptyDir: { medium: "Memory" } },
      { name: "config", configMap: { name: "sandbox-config" } },
    ],
  },
};

function compliantPod(): TestPod {
  return structuredClone(COMPLIANT_POD);
}

/** The compliant pod's main container, to mutate. */
function sandbox(pod: TestPod): Container {
  return pod.spec.containers[0]!;
}

/** Its init container. */
function setup(pod: TestPod): Container {
  return pod.spec.initContainers[0]!;
}

function failingRules(pod: TestPod): string[] {
  return RESTRICTED_RULES.filter((r) => r.check(pod).length > 0).map((r) => r.id);
}

function ruleName(id: string): string {
  const found = RESTRICTED_RULES.find((r) => r.id === id);
  assert.ok(found, `no rule with id ${id}`);
  return `${found.title} (${found.level})`;
}

function ruleById(id: string): PodSecurityRule {
  const found = RESTRICTED_RULES.find((r) => r.id === id);
  assert.ok(found, `no rule with id ${id}`);
  return found;
}

it("pod security › compliant pod › passes every rule", () => {
  for (const r of RESTRICTED_RULES) {
    assert.deepEqual(r.check(compliantPod()), [], `${r.title} (${r.level}) flagged the compliant pod`);
  }
  assert.deepEqual(restrictedViolations(compliantPod()), []);
});

it("pod security › rule set › has one rule per control with unique ids", () => {
  const ids = RESTRICTED_RULES.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(
    RESTRICTED_RULES.map((r) => `${r.level}: ${r.title}`),
    [
      "baseline: HostProcess",
      "baseline: Host Namespaces",
      "baseline: Privileged Containers",
      "baseline: Capabilities",
      "baseline: HostPath Volumes",
      "baseline: Host Ports",
      "baseline: AppArmor",
      "baseline: SELinux",
      "baseline: /proc Mount Type",
      "baseline: Seccomp",
      "baseline: Sysctls",
      "baseline: Probes / Lifecycle Hooks",
      "restricted: Volume Types",
      "restricted: Privilege Escalation",
      "restricted: Running as Non-root",
      "restricted: Running as Non-root user",
      "restricted: Seccomp",
      "restricted: Capabilities",
    ],
  );
});

interface NegativeCase {
  /** The id of the one rule that must fire. */
  readonly rule: string;
  readonly expectation: string;
  readonly mutate: (pod: TestPod) => void;
  /** Text the violation must contain: the container or pod, and the field. */
  readonly mentions: readonly string[];
}

const NEGATIVE_CASES: readonly NegativeCase[] = [
  {
    rule: "windowsHostProcess",
    expectation: "rejects a container with hostProcess=true",
    mutate: (pod) => {
      sandbox(pod).securityContext.windowsOptions = { hostProcess: true };
    },
    mentions: ['container "sandbox"', "windowsOptions.hostProcess"],
  },
  {
    rule: "windowsHostProcess",
    expectation: "rejects a pod-level hostProcess=true",
    mutate: (pod) => {
      pod.spec.securityContext.windowsOptions = { hostProcess: true };
    },
    mentions: ["pod", "spec.securityContext.windowsOptions.hostProcess"],
  },
  {
    rule: "hostNamespaces",
    expectation: "rejects hostNetwork",
    mutate: (pod) => {
      pod.spec.hostNetwork = true;
    },
    mentions: ["spec.hostNetwork"],
  },
  {
    rule: "hostNamespaces",
    expectation: "rejects hostPID",
    mutate: (pod) => {
      pod.spec.hostPID = true;
    },
    mentions: ["spec.hostPID"],
  },
  {
    rule: "hostNamespaces",
    expectation: "rejects hostIPC",
    mutate: (pod) => {
      pod.spec.hostIPC = true;
    },
    mentions: ["spec.hostIPC"],
  },
  {
    rule: "privileged",
    expectation: "rejects a privileged container",
    mutate: (pod) => {
      sandbox(pod).securityContext.privileged = true;
    },
    mentions: ['container "sandbox" (spec.containers[0])', "securityContext.privileged"],
  },
  {
    rule: "privileged",
    expectation: "rejects a privileged ephemeral container",
    mutate: (pod) => {
      pod.spec.ephemeralContainers = [
        {
          name: "debug",
          image: "busybox",
          securityContext: {
            privileged: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
          },
        },
      ];
    },
    mentions: ['container "debug" (spec.ephemeralContainers[0])', "securityContext.privileged"],
  },
  {
    rule: "capabilities_baseline",
    expectation: "rejects adding a capability outside the default set",
    mutate: (pod) => {
      sandbox(pod).securityContext.capabilities!.add = ["SYS_ADMIN"];
    },
    mentions: ['container "sandbox"', "capabilities.add", '"SYS_ADMIN"'],
  },
  {
    rule: "capabilities_baseline",
    expectation: "rejects NET_RAW on an init container",
    mutate: (pod) => {
      setup(pod).securityContext.capabilities!.add = ["NET_RAW"];
    },
    mentions: ['container "setup" (spec.initContainers[0])', '"NET_RAW"'],
  },
  {
    rule: "hostPathVolumes",
    expectation: "rejects a hostPath volume",
    mutate: (pod) => {
      pod.spec.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
    },
    mentions: ['volume "docker" (spec.volumes[3])', "hostPath"],
  },
  {
    rule: "hostPorts",
    expectation: "rejects a hostPort",
    mutate: (pod) => {
      sandbox(pod).ports![0]!.hostPort = 8080;
    },
    mentions: ['container "sandbox"', "ports[0].hostPort", "8080"],
  },
  {
    rule: "appArmorProfile",
    expectation: "rejects an unconfined AppArmor annotation",
    mutate: (pod) => {
      pod.metadata.annotations["container.apparmor.security.beta.kubernetes.io/sandbox"] = "unconfined";
    },
    mentions: ["metadata.annotations", '"unconfined"'],
  },
  {
    rule: "appArmorProfile",
    expectation: "rejects an Unconfined container appArmorProfile",
    mutate: (pod) => {
      sandbox(pod).securityContext.appArmorProfile = { type: "Unconfined" };
    },
    mentions: ['container "sandbox"', "securityContext.appArmorProfile.type", '"Unconfined"'],
  },
  {
    rule: "appArmorProfile",
    expectation: "rejects an Unconfined pod-level appArmorProfile",
    mutate: (pod) => {
      pod.spec.securityContext.appArmorProfile = { type: "Unconfined" };
    },
    mentions: ["pod", "spec.securityContext.appArmorProfile.type"],
  },
  {
    rule: "seLinuxOptions",
    expectation: "rejects a privileged SELinux type",
    mutate: (pod) => {
      sandbox(pod).securityContext.seLinuxOptions = { type: "spc_t" };
    },
    mentions: ['container "sandbox"', "seLinuxOptions.type", '"spc_t"'],
  },
  {
    rule: "seLinuxOptions",
    expectation: "rejects a pod-level SELinux user",
    mutate: (pod) => {
      pod.spec.securityContext.seLinuxOptions = { user: "system_u" };
    },
    mentions: ["pod", "spec.securityContext.seLinuxOptions.user"],
  },
  {
    rule: "seLinuxOptions",
    expectation: "rejects an SELinux role",
    mutate: (pod) => {
      sandbox(pod).securityContext.seLinuxOptions = { role: "system_r" };
    },
    mentions: ['container "sandbox"', "seLinuxOptions.role"],
  },
  {
    rule: "procMount",
    expectation: "rejects an Unmasked /proc",
    mutate: (pod) => {
      sandbox(pod).securityContext.procMount = "Unmasked";
    },
    mentions: ['container "sandbox"', "securityContext.procMount", '"Unmasked"'],
  },
  {
    rule: "seccompProfile_baseline",
    expectation: "rejects an Unconfined container seccomp profile",
    mutate: (pod) => {
      sandbox(pod).securityContext.seccompProfile = { type: "Unconfined" };
    },
    mentions: ['container "sandbox"', "securityContext.seccompProfile.type", '"Unconfined"'],
  },
  {
    rule: "seccompProfile_baseline",
    expectation: "rejects an Unconfined pod-level seccomp profile",
    mutate: (pod) => {
      pod.spec.securityContext.seccompProfile = { type: "Unconfined" };
    },
    mentions: ["pod", "spec.securityContext.seccompProfile.type"],
  },
  {
    rule: "sysctls",
    expectation: "rejects an unsafe sysctl",
    mutate: (pod) => {
      pod.spec.securityContext.sysctls!.push({ name: "kernel.msgmax", value: "65536" });
    },
    mentions: ["spec.securityContext.sysctls[1].name", '"kernel.msgmax"'],
  },
  {
    rule: "hostProbesAndHostLifecycle",
    expectation: "rejects a probe aimed at another host",
    mutate: (pod) => {
      sandbox(pod).livenessProbe!.httpGet!.host = "169.254.169.254";
    },
    mentions: ['container "sandbox"', "livenessProbe.httpGet.host", "169.254.169.254"],
  },
  {
    rule: "hostProbesAndHostLifecycle",
    expectation: "rejects a lifecycle hook aimed at another host",
    mutate: (pod) => {
      sandbox(pod).lifecycle = { preStop: { tcpSocket: { host: "10.0.0.1", port: 22 } } };
    },
    mentions: ['container "sandbox"', "lifecycle.preStop.tcpSocket.host"],
  },
  {
    rule: "restrictedVolumes",
    expectation: "rejects an nfs volume",
    mutate: (pod) => {
      pod.spec.volumes.push({ name: "shared", nfs: { server: "nfs.example", path: "/export" } });
    },
    mentions: ['volume "shared" (spec.volumes[3])', '"nfs"'],
  },
  {
    rule: "restrictedVolumes",
    expectation: "rejects a misspelt volume source",
    mutate: (pod) => {
      pod.spec.volumes.push({ name: "scratch", emptydir: {} });
    },
    mentions: ['volume "scratch"', '"emptydir"'],
  },
  {
    rule: "allowPrivilegeEscalation",
    expectation: "rejects a container that leaves it unset",
    mutate: (pod) => {
      delete sandbox(pod).securityContext.allowPrivilegeEscalation;
    },
    mentions: ['container "sandbox"', "securityContext.allowPrivilegeEscalation", "unset"],
  },
  {
    rule: "allowPrivilegeEscalation",
    expectation: "rejects an init container that sets it true",
    mutate: (pod) => {
      setup(pod).securityContext.allowPrivilegeEscalation = true;
    },
    mentions: ['container "setup" (spec.initContainers[0])', "allowPrivilegeEscalation"],
  },
  {
    rule: "runAsNonRoot",
    expectation: "rejects a pod-level false even when a container sets true",
    mutate: (pod) => {
      pod.spec.securityContext.runAsNonRoot = false;
    },
    mentions: ["pod", "spec.securityContext.runAsNonRoot"],
  },
  {
    rule: "runAsNonRoot",
    expectation: "rejects a container that inherits nothing",
    mutate: (pod) => {
      delete pod.spec.securityContext.runAsNonRoot;
    },
    mentions: ['container "setup" (spec.initContainers[0])', "securityContext.runAsNonRoot"],
  },
  {
    rule: "runAsNonRoot",
    expectation: "rejects a container-level false under a pod-level true",
    mutate: (pod) => {
      sandbox(pod).securityContext.runAsNonRoot = false;
    },
    mentions: ['container "sandbox"', "securityContext.runAsNonRoot"],
  },
  {
    rule: "runAsUser",
    expectation: "rejects a pod-level runAsUser 0",
    mutate: (pod) => {
      pod.spec.securityContext.runAsUser = 0;
    },
    mentions: ["pod", "spec.securityContext.runAsUser"],
  },
  {
    rule: "runAsUser",
    expectation: "rejects a container runAsUser 0",
    mutate: (pod) => {
      sandbox(pod).securityContext.runAsUser = 0;
    },
    mentions: ['container "sandbox"', "securityContext.runAsUser"],
  },
  {
    rule: "seccompProfile_restricted",
    expectation: "rejects containers with no seccomp profile anywhere",
    mutate: (pod) => {
      delete pod.spec.securityContext.seccompProfile;
    },
    mentions: ['container "sandbox"', 'container "setup"', "securityContext.seccompProfile.type"],
  },
  {
    rule: "capabilities_restricted",
    expectation: "rejects a container that does not drop ALL",
    mutate: (pod) => {
      sandbox(pod).securityContext.capabilities!.drop = ["NET_RAW"];
    },
    mentions: ['container "sandbox"', "capabilities.drop", '"ALL"'],
  },
  {
    rule: "capabilities_restricted",
    expectation: "rejects adding a default capability other than NET_BIND_SERVICE",
    mutate: (pod) => {
      sandbox(pod).securityContext.capabilities!.add = ["CHOWN"];
    },
    mentions: ['container "sandbox"', "capabilities.add", '"CHOWN"'],
  },
];

for (const testCase of NEGATIVE_CASES) {
  it(`pod security › ${ruleName(testCase.rule)} › ${testCase.expectation}`, () => {
    const pod = compliantPod();
    testCase.mutate(pod);

    assert.deepEqual(failingRules(pod), [testCase.rule]);
    const violations = ruleById(testCase.rule).check(pod).join("\n");
    for (const text of testCase.mentions) {
      assert.ok(violations.includes(text), `expected ${JSON.stringify(text)} in:\n${violations}`);
    }
    assert.ok(restrictedViolations(pod).length > 0);
  });
}

it("pod security › rule set › every rule has a negative case", () => {
  const covered = new Set(NEGATIVE_CASES.map((c) => c.rule));
  const uncovered = RESTRICTED_RULES.map((r) => r.id).filter((id) => !covered.has(id));
  assert.deepEqual(uncovered, []);
});

it("pod security › Running as Non-root (restricted) › accepts containers that all opt in without a pod-level value", () => {
  const pod = compliantPod();
  delete pod.spec.securityContext.runAsNonRoot;
  for (const container of [...pod.spec.initContainers, ...pod.spec.containers]) {
    container.securityContext.runAsNonRoot = true;
  }
  assert.deepEqual(failingRules(pod), []);
});

it("pod security › Seccomp (restricted) › accepts per-container profiles without a pod-level one", () => {
  const pod = compliantPod();
  delete pod.spec.securityContext.seccompProfile;
  setup(pod).securityContext.seccompProfile = { type: "RuntimeDefault" };
  sandbox(pod).securityContext.seccompProfile = { type: "Localhost", localhostProfile: "profiles/sandbox.json" };
  assert.deepEqual(failingRules(pod), []);
});

it("pod security › Seccomp (restricted) › rejects a container the pod-level profile does not cover", () => {
  const pod = compliantPod();
  delete pod.spec.securityContext.seccompProfile;
  sandbox(pod).securityContext.seccompProfile = { type: "RuntimeDefault" };
  assert.deepEqual(failingRules(pod), ["seccompProfile_restricted"]);
  const violations = ruleById("seccompProfile_restricted").check(pod);
  assert.equal(violations.length, 1);
  assert.match(violations[0]!, /container "setup"/);
});

it("pod security › Volume Types (restricted) › accepts every allowed volume source", () => {
  const pod = compliantPod();
  pod.spec.volumes.push(
    { name: "secret", secret: { secretName: "s" } },
    { name: "claim", persistentVolumeClaim: { claimName: "workspace" } },
    { name: "token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
    { name: "info", downwardAPI: { items: [] } },
    { name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } },
    { name: "driver", csi: { driver: "secrets-store.csi.k8s.io" } },
    { name: "tools", image: { reference: "registry.example/tools:1" } },
    { name: "defaulted" },
  );
  assert.deepEqual(failingRules(pod), []);
});

it("pod security › AppArmor (baseline) › accepts localhost profiles", () => {
  const pod = compliantPod();
  pod.metadata.annotations["container.apparmor.security.beta.kubernetes.io/sandbox"] = "localhost/sandbox";
  sandbox(pod).securityContext.appArmorProfile = { type: "Localhost", localhostProfile: "sandbox" };
  assert.deepEqual(failingRules(pod), []);
});

it("pod security › SELinux (baseline) › accepts the container types and a level", () => {
  const pod = compliantPod();
  pod.spec.securityContext.seLinuxOptions = { type: "container_t", level: "s0:c123,c456" };
  sandbox(pod).securityContext.seLinuxOptions = { type: "container_engine_t" };
  assert.deepEqual(failingRules(pod), []);
});

it("pod security › Sysctls (baseline) › accepts the newest safe sysctls", () => {
  const pod = compliantPod();
  pod.spec.securityContext.sysctls = [
    { name: "net.ipv4.tcp_keepalive_time", value: "600" },
    { name: "net.ipv4.tcp_rmem", value: "4096 87380 6291456" },
  ];
  assert.deepEqual(failingRules(pod), []);
});

it("pod security › Host Ports (baseline) › accepts hostPort 0", () => {
  const pod = compliantPod();
  sandbox(pod).ports![0]!.hostPort = 0;
  assert.deepEqual(failingRules(pod), []);
});

it("pod security › restrictedViolations › prefixes each violation with its control", () => {
  const pod = compliantPod();
  sandbox(pod).securityContext.privileged = true;
  delete sandbox(pod).securityContext.allowPrivilegeEscalation;
  assert.deepEqual(restrictedViolations(pod), [
    'Privileged Containers (baseline): container "sandbox" (spec.containers[0]): securityContext.privileged must be unset or false, got true',
    'Privilege Escalation (restricted): container "sandbox" (spec.containers[0]): securityContext.allowPrivilegeEscalation must be false, got unset',
  ]);
});

it("pod security › restrictedViolationsForSpec › checks a pod template and its metadata", () => {
  const template = compliantPod();
  assert.deepEqual(restrictedViolationsForSpec(template.spec, template.metadata), []);

  template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/sandbox"] = "unconfined";
  template.spec.hostPID = true;
  const violations = restrictedViolationsForSpec(template.spec, template.metadata);
  assert.equal(violations.length, 2);
  assert.match(violations.join("\n"), /spec\.hostPID/);
  assert.match(violations.join("\n"), /unconfined/);
});

it("pod security › restrictedViolationsForSpec › works without metadata and on raw JSON", () => {
  const spec: unknown = JSON.parse('{"containers":[{"name":"c","securityContext":null}],"securityContext":null}');
  const violations = restrictedViolationsForSpec(spec as Parameters<typeof restrictedViolationsForSpec>[0]);
  assert.deepEqual(
    violations.map((v) => v.slice(0, v.indexOf(":"))),
    [
      "Privilege Escalation (restricted)",
      "Running as Non-root (restricted)",
      "Seccomp (restricted)",
      "Capabilities (restricted)",
    ],
  );
});

it("pod security › restrictedViolations › accepts @kubernetes/client-node model instances", () => {
  const container = new V1Container();
  container.name = "c";
  const spec = new V1PodSpec();
  spec.containers = [container];
  const pod = new V1Pod();
  pod.spec = spec;
  assert.deepEqual(
    RESTRICTED_RULES.filter((r) => r.check(pod).length > 0).map((r) => r.id),
    ["allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile_restricted", "capabilities_restricted"],
  );
});
