/**
 * What the real-Metacontroller scenarios share: namespaces of their own, objects read and
 * written as an operator's tools would, and waiting for what Metacontroller and the hooks do.
 */
import assert from "node:assert/strict";
import { KubeConfig, Watch } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXAMPLES, REPO } from "../../support/manifests.js";
import { describeStatus, type KubeObjectLike } from "../../integration/support/kube.js";
import { env } from "../setup.js";

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface Sandbox extends KubeObjectLike {
  metadata: KubeObjectLike["metadata"] & { uid: string; resourceVersion: string; generation: number; annotations?: Record<string, string>; finalizers?: string[] };
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    podName?: string;
    endpoint?: string;
    startTime?: string;
    warmPodRef?: { name: string; namespace: string; pool: string };
    conditions?: Condition[];
    observedGeneration?: number;
  };
}

export interface WarmPool extends KubeObjectLike {
  metadata: KubeObjectLike["metadata"] & { uid: string; resourceVersion: string };
  status?: { availablePods?: number; assignedPods?: number; pendingPods?: number; conditions?: Condition[] };
}

export interface Pod extends KubeObjectLike {
  metadata: KubeObjectLike["metadata"] & {
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec: { serviceAccountName?: string; runtimeClassName?: string };
  status?: { phase?: string };
}

export const GROUP_VERSION = "llmsafespace.dev/v1";

/** A namespace enforcing Pod Security "restricted", as the README asks of sandbox namespaces. */
export async function restrictedNamespace(name: string): Promise<string> {
  const created = await env().cluster.client.create({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" },
    },
  });
  assert.equal(created.status, 201, describeStatus(created));
  return name;
}

/**
 * What a scenario file starts from: the example RuntimeEnvironments it names (python 3.10 unless
 * told) applied as an operator applies them, and a namespace of its own enforcing "restricted".
 */
export async function scenarioNamespace(name: string, runtimes: readonly string[] = ["python-3.10"]): Promise<string> {
  await kubectl("apply", ...runtimes.flatMap((runtime) => ["-f", join(EXAMPLES, `runtimeenvironment-${runtime}.yaml`)]));
  return restrictedNamespace(name);
}

/** `kubectl apply -f -` of some objects, as an operator would apply them. */
export async function apply(...objects: KubeObjectLike[]): Promise<void> {
  const result = await env().kubectl(["apply", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n"));
  assert.equal(result.code, 0, result.stderr);
}

export async function kubectl(...args: string[]): Promise<string> {
  const result = await env().kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

export async function list<T extends KubeObjectLike>(path: string, labelSelector?: string): Promise<T[]> {
  const query = labelSelector === undefined ? "" : `?labelSelector=${encodeURIComponent(labelSelector)}`;
  const response = await env().cluster.client.request<{ items: T[] }>("GET", `${path}${query}`);
  assert.equal(response.status, 200, describeStatus(response));
  return response.body.items;
}

export async function getSandbox(namespace: string, name: string): Promise<Sandbox | undefined> {
  const response = await env().cluster.client.get<Sandbox>({ apiVersion: GROUP_VERSION, kind: "Sandbox", metadata: { name, namespace } });
  return response.status === 200 ? response.body : undefined;
}

export async function getPool(namespace: string, name: string): Promise<WarmPool | undefined> {
  const response = await env().cluster.client.get<WarmPool>({ apiVersion: GROUP_VERSION, kind: "WarmPool", metadata: { name, namespace } });
  return response.status === 200 ? response.body : undefined;
}

export function pods(namespace: string, labelSelector?: string): Promise<Pod[]> {
  return list<Pod>(`/api/v1/namespaces/${namespace}/pods`, labelSelector);
}

/** Polls `check` until it returns a value other than undefined; fails with `describe()` at the deadline. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, describe?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs / 1000}s${describe === undefined ? "" : `\n${await describe()}`}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

export function condition(object: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the Sandbox's status says `phase`; returns it. */
export function inPhase(namespace: string, name: string, phase: string, timeoutMs = 30_000): Promise<Sandbox> {
  return eventually(
    `Sandbox ${namespace}/${name} ${phase}`,
    async () => {
      const sandbox = await getSandbox(namespace, name);
      return sandbox?.status?.phase === phase ? sandbox : undefined;
    },
    timeoutMs,
    async () => JSON.stringify((await getSandbox(namespace, name))?.status ?? "no such Sandbox"),
  );
}

/** Waits until the Sandbox says Running; returns it. */
export function running(namespace: string, name: string, timeoutMs = 30_000): Promise<Sandbox> {
  return inPhase(namespace, name, "Running", timeoutMs);
}

/** Waits until the pool has `available` Ready warm pods; returns it. */
export function poolReady(namespace: string, name: string, available: number, timeoutMs = 30_000): Promise<WarmPool> {
  return eventually(
    `WarmPool ${namespace}/${name} with ${available} available pods`,
    async () => {
      const pool = await getPool(namespace, name);
      return pool?.status?.availablePods === available && pool.status.pendingPods === 0 ? pool : undefined;
    },
    timeoutMs,
    async () => JSON.stringify((await getPool(namespace, name))?.status ?? "no such WarmPool"),
  );
}

/** Waits until nothing is left at `path` (with `labelSelector`). */
export function gone(what: string, path: string, labelSelector?: string, timeoutMs = 30_000): Promise<true> {
  return eventually(
    `${what} gone`,
    async () => ((await list(path, labelSelector)).length === 0 ? true : undefined),
    timeoutMs,
    async () => (await list(path, labelSelector)).map((o) => o.metadata.name).join(", "),
  );
}

export function sandbox(namespace: string, name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>): Sandbox {
  return {
    apiVersion: GROUP_VERSION,
    kind: "Sandbox",
    metadata: { name, namespace, ...(annotations !== undefined ? { annotations } : {}) } as Sandbox["metadata"],
    spec: { runtime: "python:3.10", ...spec },
  };
}

export const WARM = { "llmsafespace.dev/use-warm-pod": "true" };

export function warmPool(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObjectLike {
  return { apiVersion: GROUP_VERSION, kind: "WarmPool", metadata: { name, namespace }, spec: { runtime: "python:3.10", minSize: 2, ...spec } };
}

/** The sum of the series of `name` whose labels include `labels`, in a Prometheus text exposition (0 when none). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/** Every version of the objects at a collection path, as a watch delivers them, until stopped. */
export async function record(path: string): Promise<{ seen: KubeObjectLike[]; stop: () => void }> {
  const config = new KubeConfig();
  config.loadFromFile(env().cluster.kubeconfigPath);
  const seen: KubeObjectLike[] = [];
  const abort = await new Watch(config).watch(
    path,
    {},
    (type: string, object: KubeObjectLike) => {
      if (type === "ADDED" || type === "MODIFIED") seen.push(object);
    },
    () => undefined,
  );
  return { seen, stop: () => { abort.abort(); } };
}

/** The `kubectl` lines of the README's first `sh` block after `marker`, as argument lists, in order. */
export function readmeCommands(marker: string): string[][] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const start = readme.indexOf(marker);
  assert.ok(start >= 0, `README.md has no "${marker}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line.startsWith("kubectl "))
    .map((line) => line.split(/\s+/).slice(1));
}
