/**
 * Every security level, egress and storage variant through the real Metacontroller, in a
 * namespace that enforces Pod Security "restricted" (SPEC §5): each pod is admitted and each
 * Sandbox reaches Running with the children its variant asks for.
 */
import assert from "node:assert/strict";
import { GROUP_VERSION, apply, list, pods, running, sandbox, scenarioNamespace } from "./support/scenario.js";

const NAMESPACE = "e2e-security";

interface Variant {
  name: string;
  spec: Record<string, unknown>;
  /** What the variant's pod must show. */
  pod?: (pod: { spec: Record<string, unknown> }) => void;
  /** Children of the variant beyond the pod, Service, ServiceAccount and three base policies. */
  extra?: { networkPolicies?: number; claims?: number };
}

const VARIANTS: Variant[] = [
  { name: "standard", spec: {} },
  {
    name: "high",
    spec: { runtime: "python:3.11", securityLevel: "high" },
    pod: (pod) => { assert.equal(pod.spec.runtimeClassName, "gvisor"); },
  },
  {
    name: "custom",
    spec: { securityLevel: "custom", profileRef: { name: "strict" } },
    pod: (pod) => {
      const context = pod.spec.securityContext as { seccompProfile?: { type: string; localhostProfile?: string } };
      assert.deepEqual(context.seccompProfile, { type: "Localhost", localhostProfile: "profiles/python-strict.json" });
    },
  },
  {
    name: "egress-cidr",
    spec: { networkAccess: { egress: [{ cidr: "198.51.100.0/24", ports: [{ port: 5432 }] }] } },
    extra: { networkPolicies: 1 },
  },
  {
    name: "egress-domain",
    spec: { networkAccess: { egress: [{ domain: "pypi.org", ports: [{ port: 443 }] }] } },
    extra: { networkPolicies: 1 },
  },
  { name: "ingress", spec: { networkAccess: { ingress: true } }, extra: { networkPolicies: 1 } },
  { name: "persistent", spec: { storage: { persistent: true, volumeSize: "1Gi" } }, extra: { claims: 1 } },
  { name: "writable-root", spec: { filesystem: { readOnlyRoot: false, writablePaths: ["/tmp"] } } },
  { name: "other-user", spec: { securityContext: { runAsUser: 2000, runAsGroup: 2000 } } },
  { name: "pinned", spec: { resources: { cpu: "1", memory: "1Gi", cpuPinning: true } } },
];

describe("security variants through the real Metacontroller", function () {
  this.timeout(120_000);

  before(async () => {
    await scenarioNamespace(NAMESPACE, ["python-3.10", "python-3.11"]);
    await apply({
      apiVersion: GROUP_VERSION,
      kind: "SandboxProfile",
      metadata: { name: "strict", namespace: NAMESPACE },
      spec: { language: "python", securityLevel: "custom", seccompProfile: "profiles/python-strict.json" },
    });
  });

  for (const variant of VARIANTS) {
    it(`security › ${variant.name} › admitted under Pod Security "restricted", Running, with its children`, async () => {
      await apply(sandbox(NAMESPACE, variant.name, variant.spec));
      const done = await running(NAMESPACE, variant.name);
      const [pod] = await pods(NAMESPACE, `sandbox-id=${variant.name}`);
      assert.equal(pod?.metadata.name, done.status?.podName);
      variant.pod?.(pod as unknown as { spec: Record<string, unknown> });

      const selector = `controller-uid=${done.metadata.uid}`;
      const policies = await list(`/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`, selector);
      assert.equal(policies.length, 3 + (variant.extra?.networkPolicies ?? 0), policies.map((p) => p.metadata.name).join(", "));
      const claims = await list(`/api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims`, selector);
      assert.equal(claims.length, variant.extra?.claims ?? 0);
      assert.equal((await list(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, selector)).length, 1);
      assert.equal((await list(`/api/v1/namespaces/${NAMESPACE}/services`, selector)).length, 1);
    });
  }
});
