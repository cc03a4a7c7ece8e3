/**
 * CIDR blocks for NetworkPolicy `ipBlock`s: parsing, and the ranges a sandbox may never reach.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  text: string;
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** An IPv4 or IPv6 CIDR, or undefined when the text is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  const [, address = "", prefixText = ""] = match;
  const prefix = Number(prefixText);
  if (isIPv4(address) && prefix <= 32) return { text, address, prefix, family: "ipv4" };
  if (isIPv6(address) && prefix <= 128) return { text, address, prefix, family: "ipv6" };
  return undefined;
}

/** Whether every address of `inner` is in `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  const list = new BlockList();
  list.addSubnet(outer.address, outer.prefix, outer.family);
  // With outer.prefix <= inner.prefix, any address of inner shares outer's prefix bits.
  return list.check(inner.address, inner.family);
}

/**
 * Ranges no egress rule opens, whatever CIDR it names: link-local holds the cloud metadata
 * services (169.254.169.254; AWS's IPv6 one is fd00:ec2::254) and node-local agents; loopback
 * is the node's own.
 */
export const FORBIDDEN_RANGES: readonly Cidr[] = ["169.254.0.0/16", "127.0.0.0/8", "fe80::/10", "::1/128", "fd00:ec2::254/128"].map(
  (text) => parseCidr(text) as Cidr,
);

export type EgressBlock = { cidr: string; except?: string[] } | { problem: string };

/**
 * The ipBlock for a CIDR egress rule: the CIDR minus every forbidden range inside it. A CIDR that
 * is not valid, or that lies wholly inside a forbidden range, gives a problem instead.
 */
export function egressBlock(text: string): EgressBlock {
  const cidr = parseCidr(text);
  if (cidr === undefined) {
    return { problem: `"${text}" is not an IPv4 or IPv6 CIDR; write it as 203.0.113.0/24 or 2001:db8::/32` };
  }
  const inside = FORBIDDEN_RANGES.find((range) => cidrContains(range, cidr));
  if (inside !== undefined) {
    return { problem: `"${text}" lies in ${inside.text}, which no sandbox may reach (link-local and loopback)` };
  }
  const except = FORBIDDEN_RANGES.filter((range) => cidrContains(cidr, range)).map((range) => range.text);
  return except.length > 0 ? { cidr: text, except } : { cidr: text };
}
