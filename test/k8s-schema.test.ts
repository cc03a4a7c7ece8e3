import assert from "node:assert/strict";
import { KNOWN_KINDS, validateKubernetesObject } from "./support/k8s-schema.js";

type Json = Record<string, unknown>;

/*
 * Valid objects of every kind, shaped like the children a sandbox controller produces, in plain
 * JSON as a webhook returns them: timestamps as strings, int-or-string ports both ways, quantities
 * as strings and numbers.
 */
const VALID: Readonly<Record<string, Json>> = {
  Pod: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "sandbox-abc123",
      namespace: "sandboxes",
      creationTimestamp: null,
      labels: { app: "llmsafespace", "sandbox-id": "abc123", "app.kubernetes.io/managed-by": "llmsafespace-hooks" },
      annotations: { "llmsafespace.dev/allowed-domains": "pypi.org,files.pythonhosted.org" },
      ownerReferences: [
        { apiVersion: "llmsafespace.dev/v1", kind: "Sandbox", name: "abc123", uid: "0b6f0c1e-1111-2222-3333-444455556666", controller: true },
      ],
    },
    spec: {
      serviceAccountName: "sandbox-abc123",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: "Never",
      runtimeClassName: "gvisor",
      activeDeadlineSeconds: 300,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "sandbox",
          image: "registry.example/python-runtime:3.12",
          imagePullPolicy: "IfNotPresent",
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
          env: [{ name: "SANDBOX_ID", value: "abc123" }],
          resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: 1, memory: "1Gi", "ephemeral-storage": "1Gi" } },
          readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: 8080 } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [{ name: "workspace", mountPath: "/workspace" }],
        },
      ],
      volumes: [{ name: "workspace", emptyDir: { sizeLimit: "1Gi" } }],
      tolerations: [{ key: "sandbox", operator: "Exists", effect: "NoSchedule" }],
    },
  },
  Service: {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "sandbox-abc123", namespace: "sandboxes", labels: { app: "llmsafespace" } },
    spec: {
      type: "ClusterIP",
      selector: { "sandbox-id": "abc123" },
      ports: [
        { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
        { name: "metrics", port: 9090, targetPort: 9090 },
      ],
    },
  },
  ServiceAccount: {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "sandbox-abc123", namespace: "sandboxes" },
    automountServiceAccountToken: false,
  },
  PersistentVolumeClaim: {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "sandbox-abc123-workspace", namespace: "sandboxes" },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: "standard",
      resources: { requests: { storage: "5Gi" } },
    },
  },
  ConfigMap: {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "sandbox-abc123-config", namespace: "sandboxes" },
    data: { "settings.json": '{"timeout":300}' },
  },
  Secret: {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "sandbox-abc123-token", namespace: "sandboxes" },
    type: "Opaque",
    data: { token: "c2VjcmV0" },
    stringData: { "plain.txt": "not base64" },
  },
  Namespace: {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: "sandboxes",
      labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" },
    },
  },
  ResourceQuota: {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "sandbox-quota", namespace: "sandboxes" },
    spec: { hard: { pods: "50", "requests.cpu": "20", "limits.memory": "64Gi" } },
  },
  LimitRange: {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "sandbox-limits", namespace: "sandboxes" },
    spec: { limits: [{ type: "Container", default: { cpu: "1", memory: "1Gi" }, defaultRequest: { cpu: "100m" } }] },
  },
  NetworkPolicy: {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "sandbox-abc123-egress", namespace: "sandboxes" },
    spec: {
      podSelector: { matchLabels: { "sandbox-id": "abc123" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: "dns-tcp" },
          ],
        },
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "169.254.169.254/32"] } }],
          ports: [{ protocol: "TCP", port: 30000, endPort: 32767 }],
        },
      ],
    },
  },
  Deployment: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "warm-pool-python", namespace: "sandboxes" },
    spec: {
      replicas: 3,
      selector: { matchLabels: { pool: "python" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: 1 } },
      template: {
        metadata: { labels: { pool: "python", app: "llmsafespace" } },
        spec: { containers: [{ name: "runtime", image: "registry.example/python-runtime:3.12" }] },
      },
    },
  },
  PodDisruptionBudget: {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "warm-pool-python", namespace: "sandboxes" },
    spec: { minAvailable: "50%", selector: { matchLabels: { pool: "python" } } },
  },
  Role: {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "sandbox-abc123", namespace: "sandboxes" },
    rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: ["sandbox-abc123-config"], verbs: ["get"] }],
  },
  RoleBinding: {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "sandbox-abc123", namespace: "sandboxes" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "sandbox-abc123" },
    subjects: [{ kind: "ServiceAccount", name: "sandbox-abc123", namespace: "sandboxes" }],
  },
  ClusterRole: {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "llmsafespace:runtime-reader" },
    rules: [{ apiGroups: ["llmsafespace.dev"], resources: ["runtimeenvironments"], verbs: ["get", "list", "watch"] }],
  },
  ClusterRoleBinding: {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "llmsafespace:runtime-reader" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "llmsafespace:runtime-reader" },
    subjects: [{ kind: "ServiceAccount", name: "llmsafespace-hooks", namespace: "llmsafespace-system" }],
  },
  CiliumNetworkPolicy: {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNetworkPolicy",
    metadata: { name: "sandbox-abc123-fqdn", namespace: "sandboxes", labels: { "sandbox-id": "abc123" } },
    spec: {
      description: "Egress of sandbox abc123: DNS, then only the allowed domains and CIDRs.",
      endpointSelector: { matchLabels: { "sandbox-id": "abc123" } },
      egress: [
        {
          toEndpoints: [
            { matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns" } },
          ],
          toPorts: [
            {
              ports: [
                { port: "53", protocol: "UDP" },
                { port: "53", protocol: "TCP" },
              ],
              rules: { dns: [{ matchPattern: "*" }] },
            },
          ],
        },
        {
          toFQDNs: [{ matchName: "pypi.org" }, { matchPattern: "*.pythonhosted.org" }],
          toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
        },
        {
          toCIDR: ["192.0.2.0/24"],
          toCIDRSet: [{ cidr: "2001:db8::/32", except: ["2001:db8:1::/48"] }],
          toPorts: [{ ports: [{ port: "8443", protocol: "TCP", endPort: 8450 }] }],
        },
      ],
    },
  },
};

function valid(kind: string): Json {
  const found = VALID[kind];
  assert.ok(found, `no valid ${kind} fixture`);
  return structuredClone(found);
}

/** A field of a fixture, by path, to mutate. */
function at(object: Json, ...path: (string | number)[]): Json {
  let current: unknown = object;
  for (const segment of path) current = (current as Record<string | number, unknown>)[segment];
  assert.ok(typeof current === "object" && current !== null, `nothing at ${path.join(".")}`);
  return current as Json;
}

/** Asserts that some error names `field` (as its path prefix) and, if given, contains `text`. */
function assertRejected(object: unknown, field: string, text = ""): void {
  const errors = validateKubernetesObject(object);
  assert.ok(
    errors.some((e) => e.startsWith(`${field}: `) && e.includes(text)),
    `expected an error for ${field}${text ? ` mentioning ${JSON.stringify(text)}` : ""}, got:\n${errors.join("\n") || "(none)"}`,
  );
}

for (const kind of Object.keys(VALID)) {
  it(`kubernetes schema › ${kind} › accepts a valid object`, () => {
    assert.deepEqual(validateKubernetesObject(valid(kind)), []);
  });
}

it("kubernetes schema › all kinds › has a valid fixture for every known kind", () => {
  const fixtures = Object.values(VALID).map((o) => `${String(o.apiVersion)}/${String(o.kind)}`);
  assert.deepEqual([...fixtures].sort(), [...KNOWN_KINDS].sort());
});

// Pod ------------------------------------------------------------------------------------------

it('kubernetes schema › Pod › rejects containerPort "x" naming the field', () => {
  const pod = valid("Pod");
  at(pod, "spec", "containers", 0, "ports", 0).containerPort = "x";
  assertRejected(pod, "spec.containers[0].ports[0].containerPort", 'must be an integer, got string "x"');
});

it("kubernetes schema › Pod › rejects a container without a name", () => {
  const pod = valid("Pod");
  delete at(pod, "spec", "containers", 0).name;
  assertRejected(pod, "spec.containers[0].name", "required field is missing");
});

it("kubernetes schema › Pod › rejects a pod without containers", () => {
  const pod = valid("Pod");
  delete at(pod, "spec").containers;
  assertRejected(pod, "spec.containers", "required field is missing");
});

it("kubernetes schema › Pod › rejects an unknown field", () => {
  const pod = valid("Pod");
  const container = at(pod, "spec", "containers", 0);
  container.securityContex = container.securityContext;
  delete container.securityContext;
  assertRejected(pod, "spec.containers[0].securityContex", "unknown field");
});

it("kubernetes schema › Pod › rejects an unknown enum value", () => {
  const pod = valid("Pod");
  at(pod, "spec").restartPolicy = "Sometimes";
  assertRejected(pod, "spec.restartPolicy", '"Always", "Never", "OnFailure"');
});

it("kubernetes schema › Pod › rejects a label value that is a number", () => {
  const pod = valid("Pod");
  at(pod, "metadata", "labels").app = 1;
  assertRejected(pod, "metadata.labels.app", "must be a string");
});

it("kubernetes schema › Pod › rejects a label value the API server refuses", () => {
  const pod = valid("Pod");
  at(pod, "metadata", "labels")["sandbox-id"] = "Has Spaces";
  assertRejected(pod, 'metadata.labels["sandbox-id"]', "value");
});

it("kubernetes schema › Pod › rejects an invalid quantity", () => {
  const pod = valid("Pod");
  at(pod, "spec", "containers", 0, "resources", "limits").memory = "lots";
  assertRejected(pod, "spec.containers[0].resources.limits.memory", '"quantity"');
});

it("kubernetes schema › Pod › rejects a malformed timestamp", () => {
  const pod = valid("Pod");
  at(pod, "metadata").creationTimestamp = "yesterday";
  assertRejected(pod, "metadata.creationTimestamp", '"date-time"');
});

it("kubernetes schema › Pod › accepts timestamps as strings and Dates as they serialise", () => {
  const pod = valid("Pod");
  at(pod, "metadata").creationTimestamp = "2024-05-01T12:00:00Z";
  assert.deepEqual(validateKubernetesObject(pod), []);
  at(pod, "metadata").creationTimestamp = new Date("2024-05-01T12:00:00Z");
  assert.deepEqual(validateKubernetesObject(pod), []);
});

it("kubernetes schema › Pod › rejects a containerPort out of range", () => {
  const pod = valid("Pod");
  at(pod, "spec", "containers", 0, "ports", 0).containerPort = 70000;
  assertRejected(pod, "spec.containers[0].ports[0].containerPort", "between 1 and 65535");
});

it("kubernetes schema › Pod › rejects a container name that is not a DNS label", () => {
  const pod = valid("Pod");
  at(pod, "spec", "containers", 0).name = "Sandbox_1";
  assertRejected(pod, "spec.containers[0].name", "RFC 1123 label");
});

it("kubernetes schema › Pod › rejects a port name longer than 15 characters", () => {
  const pod = valid("Pod");
  at(pod, "spec", "containers", 0, "ports", 0).name = "sandbox-http-port";
  assertRejected(pod, "spec.containers[0].ports[0].name", "IANA service name");
});

it("kubernetes schema › Pod › rejects an object without metadata.name", () => {
  const pod = valid("Pod");
  delete at(pod, "metadata").name;
  assertRejected(pod, "metadata.name", "required field is missing");
});

// Service --------------------------------------------------------------------------------------

it("kubernetes schema › Service › rejects a port out of range", () => {
  const service = valid("Service");
  at(service, "spec", "ports", 0).port = 70000;
  assertRejected(service, "spec.ports[0].port", "between 1 and 65535");
});

it("kubernetes schema › Service › rejects a port given as a string", () => {
  const service = valid("Service");
  at(service, "spec", "ports", 0).port = "80";
  assertRejected(service, "spec.ports[0].port", "must be an integer");
});

it("kubernetes schema › Service › rejects a targetPort that is neither integer nor string", () => {
  const service = valid("Service");
  at(service, "spec", "ports", 0).targetPort = true;
  assertRejected(service, "spec.ports[0].targetPort", "must be a string or an integer, got boolean true");
});

it("kubernetes schema › Service › rejects an unknown type", () => {
  const service = valid("Service");
  at(service, "spec").type = "Internal";
  assertRejected(service, "spec.type", '"ClusterIP"');
});

it("kubernetes schema › Service › rejects a name that does not start with a letter", () => {
  const service = valid("Service");
  at(service, "metadata").name = "123abc";
  assertRejected(service, "metadata.name", "RFC 1035 label");
});

// NetworkPolicy --------------------------------------------------------------------------------

it('kubernetes schema › NetworkPolicy › rejects policyTypes given as the string "Ingress"', () => {
  const policy = valid("NetworkPolicy");
  at(policy, "spec").policyTypes = "Ingress";
  assertRejected(policy, "spec.policyTypes", 'must be an array, got string "Ingress"');
});

it("kubernetes schema › NetworkPolicy › rejects an unknown policy type", () => {
  const policy = valid("NetworkPolicy");
  at(policy, "spec").policyTypes = ["Egress", "Sideways"];
  assertRejected(policy, "spec.policyTypes[1]", '"Egress", "Ingress"');
});

it("kubernetes schema › NetworkPolicy › rejects a missing podSelector", () => {
  const policy = valid("NetworkPolicy");
  delete at(policy, "spec").podSelector;
  assertRejected(policy, "spec.podSelector", "required field is missing");
});

it("kubernetes schema › NetworkPolicy › rejects an unknown protocol", () => {
  const policy = valid("NetworkPolicy");
  at(policy, "spec", "egress", 0, "ports", 0).protocol = "ICMP";
  assertRejected(policy, "spec.egress[0].ports[0].protocol", '"SCTP", "TCP", "UDP"');
});

it("kubernetes schema › NetworkPolicy › rejects endPort with a named port", () => {
  const policy = valid("NetworkPolicy");
  at(policy, "spec", "egress", 0, "ports", 1).endPort = 60;
  assertRejected(policy, "spec.egress[0].ports[1].endPort", "numeric port");
});

it("kubernetes schema › NetworkPolicy › rejects a misspelt peer field", () => {
  const policy = valid("NetworkPolicy");
  const peer = at(policy, "spec", "egress", 1, "to", 0);
  peer.ipblock = peer.ipBlock;
  delete peer.ipBlock;
  assertRejected(policy, "spec.egress[1].to[0].ipblock", "unknown field");
});

// Other kinds ----------------------------------------------------------------------------------

it("kubernetes schema › Deployment › rejects a selector that does not match the template", () => {
  const deployment = valid("Deployment");
  at(deployment, "spec", "template", "metadata", "labels").pool = "node";
  assertRejected(deployment, "spec.template.metadata.labels", '"pool"');
});

it("kubernetes schema › Deployment › checks containers in the pod template", () => {
  const deployment = valid("Deployment");
  at(deployment, "spec", "template", "spec", "containers", 0).ports = [{ containerPort: "x" }];
  assertRejected(deployment, "spec.template.spec.containers[0].ports[0].containerPort", "must be an integer");
});

it("kubernetes schema › PersistentVolumeClaim › rejects accessModes given as a string", () => {
  const claim = valid("PersistentVolumeClaim");
  at(claim, "spec").accessModes = "ReadWriteOnce";
  assertRejected(claim, "spec.accessModes", "must be an array");
});

it("kubernetes schema › Secret › rejects data that is not base64", () => {
  const secret = valid("Secret");
  at(secret, "data").token = "not base64!";
  assertRejected(secret, "data.token", '"byte"');
});

it("kubernetes schema › ConfigMap › rejects a data value that is not a string", () => {
  const configMap = valid("ConfigMap");
  at(configMap, "data")["settings.json"] = { timeout: 300 };
  assertRejected(configMap, 'data["settings.json"]', "must be a string");
});

it("kubernetes schema › PodDisruptionBudget › rejects minAvailable that is neither integer nor string", () => {
  const budget = valid("PodDisruptionBudget");
  at(budget, "spec").minAvailable = 0.5;
  assertRejected(budget, "spec.minAvailable", "must be a string or an integer");
});

it("kubernetes schema › RoleBinding › rejects a missing roleRef", () => {
  const binding = valid("RoleBinding");
  delete binding.roleRef;
  assertRejected(binding, "roleRef", "required field is missing");
});

it("kubernetes schema › Role › rejects a rule without verbs", () => {
  const role = valid("Role");
  delete at(role, "rules", 0).verbs;
  assertRejected(role, "rules[0].verbs", "required field is missing");
});

it("kubernetes schema › ClusterRole › rejects a namespace on a cluster-scoped object", () => {
  const role = valid("ClusterRole");
  at(role, "metadata").namespace = "sandboxes";
  assertRejected(role, "metadata.namespace", "cluster-scoped");
});

it("kubernetes schema › Namespace › rejects a name that is not a DNS label", () => {
  const namespace = valid("Namespace");
  at(namespace, "metadata").name = "sandboxes.example";
  assertRejected(namespace, "metadata.name", "RFC 1123 label");
});

// CiliumNetworkPolicy --------------------------------------------------------------------------

it("kubernetes schema › CiliumNetworkPolicy › rejects a port given as a number", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 1, "toPorts", 0, "ports", 0).port = 443;
  assertRejected(policy, "spec.egress[1].toPorts[0].ports[0].port", 'must be a string such as "443", got number 443');
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a port out of range", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 1, "toPorts", 0, "ports", 0).port = "99999";
  assertRejected(policy, "spec.egress[1].toPorts[0].ports[0].port", "0-65535");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects an unknown protocol", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 1, "toPorts", 0, "ports", 0).protocol = "HTTP";
  assertRejected(policy, "spec.egress[1].toPorts[0].ports[0].protocol", "TCP, UDP");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects an FQDN selector with both matchName and matchPattern", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 1, "toFQDNs", 0).matchPattern = "*.pypi.org";
  assertRejected(policy, "spec.egress[1].toFQDNs[0]", "exactly one of matchName and matchPattern");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects an FQDN selector with neither", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 1).toFQDNs = [{}];
  assertRejected(policy, "spec.egress[1].toFQDNs[0]", "exactly one of matchName and matchPattern");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a matchName that is not a DNS name", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 1, "toFQDNs", 0).matchName = "https://pypi.org/";
  assertRejected(policy, "spec.egress[1].toFQDNs[0].matchName", "DNS name");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a misspelt toFQDNs that would widen the rule", () => {
  const policy = valid("CiliumNetworkPolicy");
  const rule = at(policy, "spec", "egress", 1);
  rule.toFQDN = rule.toFQDNs;
  delete rule.toFQDNs;
  assertRejected(policy, "spec.egress[1].toFQDN", "unknown field");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects toFQDNs combined with toCIDR in one rule", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 1).toCIDR = ["192.0.2.0/24"];
  assertRejected(policy, "spec.egress[1]", "toFQDNs cannot be combined with toCIDR");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a malformed CIDR", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 2).toCIDR = ["192.0.2.0"];
  assertRejected(policy, "spec.egress[2].toCIDR[0]", "must be a CIDR");
  at(policy, "spec", "egress", 2).toCIDR = ["192.0.2.0/33"];
  assertRejected(policy, "spec.egress[2].toCIDR[0]", "must be a CIDR");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a toCIDRSet entry without cidr", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "egress", 2).toCIDRSet = [{ except: ["10.0.0.0/16"] }];
  assertRejected(policy, "spec.egress[2].toCIDRSet[0]", "exactly one of cidr");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a missing endpointSelector", () => {
  const policy = valid("CiliumNetworkPolicy");
  delete at(policy, "spec").endpointSelector;
  assertRejected(policy, "spec", "exactly one of endpointSelector and nodeSelector");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects matchLabels values that are not strings", () => {
  const policy = valid("CiliumNetworkPolicy");
  at(policy, "spec", "endpointSelector", "matchLabels")["sandbox-id"] = 123;
  assertRejected(policy, 'spec.endpointSelector.matchLabels["sandbox-id"]', "label value");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a missing metadata.name", () => {
  const policy = valid("CiliumNetworkPolicy");
  delete at(policy, "metadata").name;
  assertRejected(policy, "metadata.name", "required field is missing");
});

it("kubernetes schema › CiliumNetworkPolicy › rejects a missing spec", () => {
  const policy = valid("CiliumNetworkPolicy");
  delete policy.spec;
  assertRejected(policy, "spec", "required field is missing");
});

// Unknown and malformed input ------------------------------------------------------------------

it("kubernetes schema › unknown kind › is rejected as having no schema", () => {
  assertRejected(
    { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } },
    "(root)",
    'no schema is known for apiVersion "example.com/v1", kind "Widget"',
  );
  assertRejected({ apiVersion: "v1", kind: "Deployment", metadata: { name: "d" } }, "(root)", "no schema is known");
  assertRejected({ apiVersion: "cilium.io/v2", kind: "CiliumClusterwideNetworkPolicy" }, "(root)", "no schema is known");
});

it("kubernetes schema › malformed input › rejects non-objects and missing apiVersion or kind", () => {
  assertRejected(undefined, "(root)", "must be a JSON object");
  assertRejected(["v1", "Pod"], "(root)", "must be a JSON object, got an array");
  assertRejected({ kind: "Pod" }, "apiVersion", "must be a string");
  assertRejected({ apiVersion: "v1" }, "kind", "must be a string");
});
