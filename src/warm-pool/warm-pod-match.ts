/**
 * Whether a warm pod can stand in for the cold pod a Sandbox would get (SPEC §6, claim step 2).
 *
 * A warm pod is compatible only when everything that decides its isolation and its size is the
 * same as the cold pod's: image, resources, pod and container security contexts (seccomp, user,
 * capabilities), runtime class, node selector and writable paths. A claim can therefore never
 * hand a Sandbox a weaker or smaller pod than it asked for — the seed's `high` sandbox on a
 * `standard` pod cannot happen.
 */
import type { KubeObject } from "../api/index.js";

interface PodShape extends KubeObject {
  spec?: {
    runtimeClassName?: string;
    nodeSelector?: Record<string, string>;
    securityContext?: unknown;
    containers?: {
      image?: string;
      resources?: unknown;
      securityContext?: unknown;
      volumeMounts?: { mountPath: string; readOnly?: boolean }[];
    }[];
  };
}

/** What must be equal, field by field; a description of each, for the message. */
function projection(pod: PodShape): Record<string, string> {
  const spec = pod.spec ?? {};
  const container = spec.containers?.[0] ?? {};
  return {
    image: canonical(container.image),
    resources: canonical(normalizedResources(container.resources)),
    "pod securityContext": canonical(spec.securityContext),
    "container securityContext": canonical(container.securityContext),
    runtimeClassName: canonical(spec.runtimeClassName),
    nodeSelector: canonical(spec.nodeSelector),
    "writable paths": canonical(
      (container.volumeMounts ?? [])
        .filter((mount) => mount.readOnly !== true)
        .map((mount) => mount.mountPath)
        .sort(),
    ),
  };
}

/** The fields in which a warm pod differs from the cold pod; empty when it may stand in. */
export function warmPodDifferences(warm: KubeObject, cold: KubeObject): string[] {
  const want = projection(cold);
  const have = projection(warm);
  return Object.keys(want).filter((field) => want[field] !== have[field]);
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * A quantity as a number, so `1.5` and `1500m` compare equal: the API server writes quantities
 * back in canonical form, which need not be the form the builder used.
 */
export function quantityValue(quantity: unknown): number | undefined {
  if (typeof quantity === "number") return quantity;
  if (typeof quantity !== "string") return undefined;
  // One way to match any string (no nested or adjacent optional digit runs): linear time.
  const match = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE][0-9]+)|([numkMGTPE]i?))?$/.exec(quantity);
  if (match === null) return undefined;
  const [, mantissa = "", exponent, suffix = ""] = match;
  const multiplier = exponent !== undefined ? 10 ** Number(exponent.slice(1)) : SUFFIX[suffix];
  if (multiplier === undefined) return undefined;
  return Number(mantissa) * multiplier;
}

function normalizedResources(resources: unknown): unknown {
  if (resources === null || typeof resources !== "object") return resources;
  return Object.fromEntries(
    Object.entries(resources as Record<string, Record<string, unknown> | undefined>).map(([kind, values]) => [
      kind,
      Object.fromEntries(
        Object.entries(values ?? {}).map(([name, value]) => {
          const number = quantityValue(value);
          // Rounded to a billionth: binary floating point must not make 1.5 and 1500m differ.
          return [name, number === undefined ? value : Math.round(number * 1e9) / 1e9];
        }),
      ),
    ]),
  );
}

/** JSON with sorted keys, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
