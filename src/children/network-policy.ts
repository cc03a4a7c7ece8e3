/**
 * The NetworkPolicies of a sandbox (SPEC §4.3): deny everything, then allow exactly what was
 * asked for. Kubernetes NetworkPolicies are allow-lists that add up, so each policy below only
 * ever opens a path; `default-deny` closes the rest.
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
import type { EgressRule, PortRule } from "../api/index.js";
import { egressBlock, parseCidr } from "./cidr.js";
import { ANNOTATION_ALLOWED_DOMAINS, sandboxChildName } from "./labels.js";
import type { ChildMetadata } from "../api/index.js";
import { SANDBOX_PORT } from "./pod.js";

/** Who enforces egress by domain. */
export type FqdnProvider = "none" | "cilium";

/** What a sandbox's NetworkPolicies need to know about the cluster. */
export interface NetworkConfig {
  /** Namespace labels of the LLMSafeSpace API service. @default {"kubernetes.io/metadata.name": "llmsafespace"} */
  apiNamespaceSelector: Record<string, string>;
  /** Pod labels of the LLMSafeSpace API service. @default {app: "llmsafespace", component: "api"} */
  apiPodSelector: Record<string, string>;
  /** Namespace labels of the cluster DNS. @default {"kubernetes.io/metadata.name": "kube-system"} */
  dnsNamespaceSelector: Record<string, string>;
  /** Pod labels of the cluster DNS. @default {"k8s-app": "kube-dns"} */
  dnsPodSelector: Record<string, string>;
  /**
   * Who enforces egress by domain. `none`: plain NetworkPolicies, which cannot match a domain;
   * `cilium`: a CiliumNetworkPolicy with `toFQDNs`. @default "none"
   */
  fqdnProvider: FqdnProvider;
}

/**
 * Where a domain rule may go when plain NetworkPolicies enforce it: the public internet on the
 * rule's ports. Private, shared, loopback and link-local ranges stay closed, so a domain rule
 * never opens the cluster network or the cloud metadata service (169.254.169.254).
 */
export const PUBLIC_IPV4 = {
  cidr: "0.0.0.0/0",
  except: [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
  ],
} as const;

type LabelSelector = { matchLabels?: Record<string, string> };

/**
 * networking.k8s.io/v1 NetworkPolicy, the fields this project sets. Our own type, not
 * client-node's `NetworkPolicy`: that one renames the wire field `from` to `_from`.
 */
export interface NetworkPolicy {
  apiVersion: "networking.k8s.io/v1";
  kind: "NetworkPolicy";
  metadata: ChildMetadata;
  spec: {
    podSelector: LabelSelector;
    policyTypes: ("Ingress" | "Egress")[];
    ingress?: { from: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
    egress?: { to: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

interface NetworkPolicyPeer {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface NetworkPolicyPort {
  port: number;
  protocol: "TCP" | "UDP";
}

/** A CiliumNetworkPolicy (cilium.io/v2): only the fields this project sets. */
export interface CiliumNetworkPolicy {
  apiVersion: "cilium.io/v2";
  kind: "CiliumNetworkPolicy";
  metadata: ChildMetadata;
  spec: {
    endpointSelector: { matchLabels: Record<string, string> };
    egress: CiliumEgressRule[];
  };
}

interface CiliumEgressRule {
  toFQDNs?: ({ matchName: string } | { matchPattern: string })[];
  toEndpoints?: { matchLabels: Record<string, string> }[];
  toPorts?: { ports: { port: string; protocol: string }[]; rules?: { dns: { matchPattern: string }[] } }[];
}

export type NetworkChild = NetworkPolicy | CiliumNetworkPolicy;

export interface NetworkPoliciesInput {
  /** The Sandbox's name: every policy is named `sandbox-<name>-<purpose>`. */
  sandboxName: string;
  namespace: string;
  labels: Record<string, string>;
  /** The sandbox's pods (`sandbox-id`). */
  podSelector: Record<string, string>;
  /** The Sandbox's egress rules followed by its profile's. */
  egress: readonly EgressRule[];
  /** Ingress from any pod in the cluster to 8080 (`networkAccess.ingress`). */
  ingressFromCluster: boolean;
  /** The profile's ingress rules: their `cidr` names a source allowed to reach port 8080. */
  profileIngress: readonly EgressRule[];
  config: NetworkConfig;
}

export interface NetworkPolicies {
  children: NetworkChild[];
  /** The domains of rules that name a domain and no CIDR, sorted, once each. */
  domains: string[];
  /** Whether those domains are enforced as names (true only with an FQDN-aware provider). */
  domainsEnforced: boolean;
  /** Rules that could not become a policy (left out, so they open nothing), in words. */
  problems: string[];
}

/** All the network children of one sandbox, in a fixed order. */
export function sandboxNetworkPolicies(input: NetworkPoliciesInput): NetworkPolicies {
  const base = (purpose: string): ChildMetadata => ({
    name: sandboxChildName(input.sandboxName, purpose),
    namespace: input.namespace,
    labels: input.labels,
  });
  const podSelector = { matchLabels: input.podSelector };
  const apiPeer: NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: input.config.apiNamespaceSelector },
    podSelector: { matchLabels: input.config.apiPodSelector },
  };
  const dnsPeer: NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: input.config.dnsNamespaceSelector },
    podSelector: { matchLabels: input.config.dnsPodSelector },
  };
  const useCilium = input.config.fqdnProvider === "cilium";

  const children: NetworkChild[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: base("default-deny"),
      spec: { podSelector, policyTypes: ["Ingress", "Egress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: base("api-access"),
      spec: {
        podSelector,
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [apiPeer], ports: [{ port: SANDBOX_PORT, protocol: "TCP" }] }],
        egress: [{ to: [apiPeer] }],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: base("dns-access"),
      spec: {
        podSelector,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [dnsPeer],
            ports: [
              { port: 53, protocol: "UDP" },
              { port: 53, protocol: "TCP" },
            ],
          },
        ],
      },
    },
  ];

  const domains: string[] = [];
  const problems: string[] = [];
  input.egress.forEach((rule, index) => {
    const metadata = base(`egress-${index}`);
    if (rule.cidr !== undefined) {
      // The CIDR is enforceable as it is and bounds the rule; a domain beside it only labels it.
      const block = egressBlock(rule.cidr);
      if ("problem" in block) {
        problems.push(`egress rule ${index}: ${block.problem}`);
        return;
      }
      children.push(egressPolicy(metadata, podSelector, { ipBlock: block }, rule.ports, rule.domain));
    } else if (rule.domain !== undefined) {
      domains.push(rule.domain);
      children.push(
        useCilium
          ? fqdnPolicy(metadata, input.podSelector, rule.domain, rule.ports, input.config)
          : egressPolicy(
              metadata,
              podSelector,
              { ipBlock: { cidr: PUBLIC_IPV4.cidr, except: [...PUBLIC_IPV4.except] } },
              rule.ports,
              rule.domain,
            ),
      );
    }
  });

  if (input.ingressFromCluster) {
    children.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: base("ingress"),
      spec: {
        podSelector,
        policyTypes: ["Ingress"],
        // An empty namespaceSelector selects every namespace, so: any pod in the cluster.
        ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: SANDBOX_PORT, protocol: "TCP" }] }],
      },
    });
  }
  input.profileIngress.forEach((rule, index) => {
    if (rule.cidr === undefined) return;
    if (parseCidr(rule.cidr) === undefined) {
      problems.push(`profile ingress rule ${index}: "${rule.cidr}" is not an IPv4 or IPv6 CIDR`);
      return;
    }
    children.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: base(`ingress-${index}`),
      spec: {
        podSelector,
        policyTypes: ["Ingress"],
        // A sandbox serves only its runtime port; a profile may say from where, not to what.
        ingress: [{ from: [{ ipBlock: { cidr: rule.cidr } }], ports: [{ port: SANDBOX_PORT, protocol: "TCP" }] }],
      },
    });
  });

  const unique = [...new Set(domains)].sort();
  return { children, domains: unique, domainsEnforced: unique.length === 0 || useCilium, problems };
}

function egressPolicy(
  metadata: ChildMetadata,
  podSelector: { matchLabels: Record<string, string> },
  peer: NetworkPolicyPeer,
  ports: readonly PortRule[] | undefined,
  domain: string | undefined,
): NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: domain !== undefined ? Object.assign({}, metadata, { annotations: { [ANNOTATION_ALLOWED_DOMAINS]: domain } }) : metadata,
    spec: { podSelector, policyTypes: ["Egress"], egress: [{ to: [peer], ...portsOf(ports) }] },
  };
}

/** Omitting `ports` allows every port to the peer, which is what a rule without ports means. */
function portsOf(ports: readonly PortRule[] | undefined): { ports?: NetworkPolicyPort[] } {
  if (ports === undefined || ports.length === 0) return {};
  return { ports: ports.map((p) => ({ port: p.port, protocol: p.protocol })) };
}

/**
 * A Cilium policy that allows one domain by name. Cilium learns a name's addresses by watching
 * DNS answers, so the policy also sends the pod's DNS through Cilium's DNS proxy.
 * https://docs.cilium.io/en/stable/security/policy/language/#dns-based
 */
function fqdnPolicy(
  metadata: ChildMetadata,
  podSelector: Record<string, string>,
  domain: string,
  ports: readonly PortRule[] | undefined,
  config: NetworkConfig,
): CiliumNetworkPolicy {
  const dnsEndpoint: Record<string, string> = { ...config.dnsPodSelector };
  for (const [key, value] of Object.entries(config.dnsNamespaceSelector)) {
    dnsEndpoint[`io.cilium.k8s.namespace.labels.${key}`] = value;
  }
  const toPorts =
    ports === undefined || ports.length === 0
      ? {}
      : { toPorts: [{ ports: ports.map((p) => ({ port: String(p.port), protocol: p.protocol })) }] };
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNetworkPolicy",
    metadata: Object.assign({}, metadata, { annotations: { [ANNOTATION_ALLOWED_DOMAINS]: domain } }),
    spec: {
      endpointSelector: { matchLabels: podSelector },
      egress: [
        {
          toEndpoints: [{ matchLabels: dnsEndpoint }],
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
          toFQDNs: [domain.startsWith("*.") ? { matchPattern: domain } : { matchName: domain }],
          ...toPorts,
        },
      ],
    },
  };
}
