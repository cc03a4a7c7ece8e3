/**
 * The one module that talks to the Kubernetes API: it claims warm pods for Sandboxes (SPEC §6),
 * gives extra claims back, and retires pods for their pools — each a single conditional JSON
 * patch, so any number of hook replicas can race without a pod going to two owners.
 *
 * The API server applies a JSON patch to the object as it is at that moment and retries on its
 * own optimistic-lock conflicts, re-running the patch's `test` operations each time, so the
 * `test` on `warm-state` is the one point at which a claim, a retire or a release wins or loses.
 */
import { createHash } from "node:crypto";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type RequestOptions } from "node:https";
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  PatchStrategy,
  ServerConfiguration,
  createConfiguration,
  setHeaderOptions,
  type KubeConfig,
  type RequestContext,
  type V1Pod,
} from "@kubernetes/client-node";
import { API_VERSION, GROUP, type Sandbox, type WarmPool } from "../api/index.js";
import type {
  AllocationResult,
  ClaimObserver,
  ClaimRequest,
  ClaimResult,
  ClaimStep,
  ReleaseResult,
  RetireResult,
  WarmPodClaimer,
  WarmPodRecycler,
  WarmPodRetirer,
} from "./claimer.js";
import { Reason, formatTime } from "../api/index.js";
import {
  ANNOTATION_CLAIMED_AT,
  LABEL_CLAIMED_BY,
  LABEL_COMPONENT,
  LABEL_POOL,
  LABEL_RUNTIME,
  LABEL_SANDBOX_ID,
  LABEL_SANDBOX_UID,
  LABEL_SECURITY_LEVEL,
  LABEL_WARM_STATE,
  labelValue,
  runtimeName,
} from "../children/index.js";
import type { Logger } from "pino";
import type { KubeObject, OwnerReference } from "../api/index.js";
import { keepObserved, type ObservedPod } from "../api/index.js";
import { ANNOTATION_RECYCLE_COUNT, recycleDecision, type RecycleDecision } from "./recycle.js";
import { warmPodDifferences } from "./warm-pod-match.js";

/** Metacontroller's generated-selector label (CompositeController `generateSelector: true`). */
export const LABEL_CONTROLLER_UID = "controller-uid";

/** Runs a command in a pod's sandbox container; rejects unless it exits 0. */
export type PodExec = (namespace: string, pod: string, command: string[]) => Promise<void>;

export interface KubernetesWarmPodsOptions {
  /** Longest a claim may take before the Sandbox gets a cold pod instead. @default 2000 */
  deadlineMs?: number;
  clock?: () => Date;
  logger?: Logger;
  observer?: ClaimObserver;
  /** Reads WarmPools, for recycling. Without it no pod is recycled. */
  customObjects?: CustomObjectsApi;
  /** Wipes a pod before it is recycled. Without it no pod is recycled. */
  exec?: PodExec;
}

/** A claim that ran out of time; the caller answers cold and the next sync finds the claim if it landed. */
class DeadlineExceeded extends Error {}

export class KubernetesWarmPods implements WarmPodClaimer, WarmPodRetirer, WarmPodRecycler {
  private readonly deadlineMs: number;
  private readonly clock: () => Date;
  private readonly taken = new TakenPods();
  /** Concurrent claims for one pool share one listing of its available pods. */
  private readonly listings = new Map<string, Promise<V1Pod[]>>();

  constructor(
    private readonly api: CoreV1Api,
    private readonly options: KubernetesWarmPodsOptions = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? 2000;
    this.clock = options.clock ?? (() => new Date());
  }

  static fromKubeConfig(kubeConfig: KubeConfig, options: KubernetesWarmPodsOptions = {}): KubernetesWarmPods {
    const configuration = keepAliveConfiguration(kubeConfig);
    return new KubernetesWarmPods(new CoreV1Api(configuration), {
      customObjects: new CustomObjectsApi(configuration),
      exec: execIn(kubeConfig),
      ...options,
    });
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const started = performance.now();
    const finish = (result: AllocationResult, answer: ClaimResult): ClaimResult => {
      this.options.observer?.claimFinished(request.runtime, request.securityLevel, result, (performance.now() - started) / 1000);
      return answer;
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new DeadlineExceeded()); }, this.deadlineMs);
    });
    try {
      const { result, answer } = await Promise.race([this.tryClaim(request), deadline]);
      return finish(result, answer);
    } catch (error) {
      const late = error instanceof DeadlineExceeded;
      this.options.logger?.warn(
        { sandbox: request.sandbox.metadata.name, namespace: request.sandbox.metadata.namespace, err: late ? undefined : error },
        late ? "Gave up a warm-pod claim at its deadline" : "Failed to claim a warm pod",
      );
      return finish("error", {
        outcome: "cold",
        reason: Reason.ClaimError,
        message: late
          ? `The claim did not finish within ${this.deadlineMs} ms; it starts a cold pod. A claim that lands later serves the Sandbox if its cold pod does not exist yet, and is given back to its pool if it does.`
          : `The Kubernetes API failed during the claim (${describe(error)}); it starts a cold pod.`,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private async tryClaim(request: ClaimRequest): Promise<Outcome> {
    const { sandbox } = request;
    const namespace = sandbox.metadata.namespace ?? "";
    const uid = sandbox.metadata.uid ?? "";

    // Step 1: our own earlier claim, whose answer may have been lost.
    const own = await this.timed("own_claim", () => this.list(namespace, `${LABEL_CLAIMED_BY}=${uid}`));
    const earlier = own.sort(byName)[0];
    if (earlier !== undefined) {
      return { result: "success", answer: claimed(earlier) };
    }

    // Steps 2 to 4: compatible candidates, in rendezvous order, each tried with one conditional
    // patch. A lost patch means the view is stale, so after a few the candidates are listed again:
    // under a burst, losers stop trying pods that are long gone.
    const pool = `${LABEL_COMPONENT}=warmpod,${LABEL_RUNTIME}=${labelValue(runtimeName(request.runtime))},${LABEL_SECURITY_LEVEL}=${request.securityLevel}`;
    const giveUpAt = performance.now() + this.deadlineMs;
    while (performance.now() < giveUpAt) {
      // Only available pods are listed: under a burst most of a pool is claimed, and listing
      // (and decoding) those pods again and again is most of a claim's cost.
      const available = await this.timed("list", () => this.sharedList(namespace, `${pool},${LABEL_WARM_STATE}=available`));
      if (available.length === 0) {
        const any = (await this.timed("list", () => this.api.listNamespacedPod({ namespace, labelSelector: pool, limit: 1 }))).items.length > 0;
        return any
          ? cold("no_available_pods", Reason.NoWarmPodAvailable, `Every warm pod for ${request.runtime} is taken.`)
          : cold("no_matching_pools", Reason.NoWarmPodAvailable, `No WarmPool in ${namespace} keeps ${request.runtime} pods at level ${request.securityLevel}.`);
      }
      const view = candidates(available, request);
      if ("answer" in view) return view;
      // Compatibility is checked pod by pod as they come up, not for the whole pool up front: a
      // pool's pods are nearly always alike, and under a burst every claim would otherwise
      // compare every pod.
      const compatible = memo((pod: V1Pod) => warmPodDifferences(plainPod(pod), request.coldPod).length === 0);
      let attempts = 0;
      for (const pod of rendezvousOrder(uid, view.pods)) {
        if (attempts === ATTEMPTS_PER_LIST) break;
        if (this.taken.has(pod) || !compatible(pod)) continue;
        attempts++;
        const won = await this.taken.during(pod, () => this.timed("patch", () => this.patch(pod, claimPatch(pod, sandbox, formatTime(this.clock())))));
        if (won !== undefined) {
          this.options.logger?.info(
            { sandbox: sandbox.metadata.name, namespace, pod: won.metadata?.name, pool: won.metadata?.labels?.[LABEL_POOL] },
            "Claimed warm pod",
          );
          return { result: "success", answer: claimed(won) };
        }
        this.options.observer?.claimConflict();
      }
      if (attempts === 0) {
        if (!view.pods.some(compatible)) return incompatible(view.pods, request);
        // Every compatible pod is being claimed by this server right now: those claims will most
        // likely win, so look again shortly rather than race them.
        await new Promise((resolve) => setTimeout(resolve, RELIST_AFTER_MS));
      }
    }
    return cold("error", Reason.ClaimError, `The claim did not finish within ${this.deadlineMs} ms; it starts a cold pod.`);
  }

  /** Runs one API call of a claim, timed for {@link ClaimObserver.claimStep}. */
  private async timed<T>(step: ClaimStep, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      this.options.observer?.claimStep?.(step, (performance.now() - started) / 1000);
    }
  }

  async release(pod: { name: string; namespace: string }, sandboxUid: string): Promise<ReleaseResult> {
    try {
      const current = await this.api.readNamespacedPod({ name: pod.name, namespace: pod.namespace });
      const pool = current.metadata?.ownerReferences?.find((ref) => ref.kind === "WarmPool" && ref.apiVersion === API_VERSION);
      if (current.metadata?.labels?.[LABEL_CLAIMED_BY] !== sandboxUid || pool === undefined) return "not-ours";
      const won = await this.patch(current, releasePatch(current, sandboxUid, pool));
      if (won === undefined) return "not-ours";
      this.options.logger?.info({ pod: pod.name, namespace: pod.namespace, pool: pool.name }, "Released extra warm pod to its pool");
      return "released";
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return "not-ours";
      this.options.logger?.warn({ pod: pod.name, namespace: pod.namespace, err: error }, "Failed to release warm pod");
      return "error";
    }
  }

  /**
   * SPEC §7: a claimed pod goes back to its pool only if the pool recycles, every check of
   * {@link recycleDecision} passes, and /workspace and /tmp were wiped and found empty; then one
   * conditional patch makes it the pool's again. Anything else: it is deleted with the Sandbox.
   */
  async recycle(pod: ObservedPod, sandboxUid: string): Promise<RecycleDecision> {
    const { name, namespace = "" } = pod.metadata;
    const poolName = pod.metadata.labels?.[LABEL_POOL];
    if (this.options.customObjects === undefined || this.options.exec === undefined || poolName === undefined) {
      return { recycle: false, reason: "disabled", message: "recycling needs the pool, and exec into the pod" };
    }
    try {
      const pool = await this.warmPool(namespace, poolName);
      const decision = recycleDecision(pod, pool, this.clock());
      if (!decision.recycle || pool === undefined) return decision;
      try {
        await this.options.exec(namespace, name, WIPE_COMMAND);
      } catch (error) {
        return { recycle: false, reason: "wipe_failed", message: `wiping /workspace and /tmp failed: ${describe(error)}` };
      }
      const current = await this.api.readNamespacedPod({ name, namespace });
      const count = Number(current.metadata?.annotations?.[ANNOTATION_RECYCLE_COUNT] ?? "0") + 1;
      const ref = { apiVersion: API_VERSION, kind: "WarmPool", name: poolName, uid: pool.metadata.uid ?? "" };
      const won = await this.patch(current, [
        ...releasePatch(current, sandboxUid, ref),
        { op: "add", path: annotationPath(ANNOTATION_RECYCLE_COUNT), value: String(count) },
      ]);
      if (won === undefined) return { recycle: false, reason: "conflict", message: "the pod is no longer this Sandbox's" };
      this.options.logger?.info({ pod: name, namespace, pool: poolName, count }, "Recycled warm pod into its pool");
      return { recycle: true, reason: "recycled", message: `recycled into WarmPool ${poolName} (${count} times)` };
    } catch (error) {
      this.options.logger?.warn({ pod: name, namespace, err: error }, "Failed to recycle warm pod");
      return { recycle: false, reason: "error", message: describe(error) };
    }
  }

  private async warmPool(namespace: string, name: string): Promise<WarmPool | undefined> {
    try {
      return (await this.options.customObjects?.getNamespacedCustomObject({
        group: GROUP,
        version: "v1",
        namespace,
        plural: "warmpools",
        name,
      })) as WarmPool | undefined;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async retire(pod: { name: string; namespace: string }): Promise<RetireResult> {
    const patch = [
      { op: "test", path: labelPath(LABEL_WARM_STATE), value: "available" },
      { op: "replace", path: labelPath(LABEL_WARM_STATE), value: "retiring" },
    ];
    try {
      const won = await this.patchByName(pod.name, pod.namespace, patch);
      return won === undefined ? "not-available" : "retired";
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return "not-available";
      this.options.logger?.warn({ pod: pod.name, namespace: pod.namespace, err: error }, "Failed to retire warm pod");
      return "error";
    }
  }

  /**
   * A listing from the API server's watch cache (`resourceVersion=0`): it may trail etcd by a
   * moment, which costs at most a lost patch — the patch's `test` is what decides.
   */
  private async list(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.api.listNamespacedPod({ namespace, labelSelector, resourceVersion: "0" })).items;
  }

  /**
   * {@link list}, shared: a claim that wants a listing while one is on its way takes that one.
   * Under a burst a hundred claims then decode a few listings instead of a hundred, and the
   * {@link TakenPods} of this server keep them off each other's pods.
   */
  private sharedList(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const key = `${namespace}/${labelSelector}`;
    let listing = this.listings.get(key);
    if (listing === undefined) {
      listing = this.list(namespace, labelSelector).finally(() => this.listings.delete(key));
      this.listings.set(key, listing);
    }
    return listing;
  }

  private patch(pod: V1Pod, operations: object[]): Promise<V1Pod | undefined> {
    return this.patchByName(pod.metadata?.name ?? "", pod.metadata?.namespace ?? "", operations);
  }

  /** The patched pod, or undefined when a `test` failed or the write conflicted: someone else won. */
  private async patchByName(name: string, namespace: string, operations: object[]): Promise<V1Pod | undefined> {
    try {
      return await this.api.patchNamespacedPod({ name, namespace, body: operations }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
    } catch (error) {
      // 422: a `test` failed (the state is no longer what we tested); 409: a conflicting write.
      if (error instanceof ApiException && (error.code === 422 || error.code === 409)) return undefined;
      throw error;
    }
  }
}

/**
 * Empties /workspace and /tmp (dot files too) and fails unless both are then empty. Run as the
 * sandbox's own user, in its own container: it can remove only what the sandbox could write.
 */
const WIPE_COMMAND = [
  "sh",
  "-c",
  'for d in /workspace /tmp; do [ -d "$d" ] || continue; find "$d" -mindepth 1 -delete || exit 1; ' +
    '[ -z "$(ls -A "$d")" ] || exit 1; done',
];

/** Longest a wipe may take; a stream that closes without a status would otherwise never settle. */
const EXEC_TIMEOUT_MS = 20_000;

function execIn(kubeConfig: KubeConfig): PodExec {
  const exec = new Exec(kubeConfig);
  return (namespace, pod, command) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no exit status within ${EXEC_TIMEOUT_MS / 1000}s`));
      }, EXEC_TIMEOUT_MS);
      exec
        .exec(namespace, pod, "sandbox", command, null, null, null, false, (status) => {
          clearTimeout(timer);
          if (status.status === "Success") resolve();
          else reject(new Error(status.message ?? "the command failed"));
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
}

/**
 * An API configuration whose requests share one keep-alive connection pool. client-node 1.x
 * builds a new agent, and so a new TLS handshake, for every request; under a burst of claims
 * that handshake costs more than the claim itself. Credentials are still applied per request
 * (tokens rotate).
 */
function keepAliveConfiguration(kubeConfig: KubeConfig) {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error("The Kubernetes configuration names no current cluster; check KUBECONFIG.");
  let agent: Promise<HttpAgent | HttpsAgent> | undefined;
  const sharedAgent = async (): Promise<HttpAgent | HttpsAgent> => {
    if (!cluster.server.startsWith("https:")) return new HttpAgent({ keepAlive: true });
    const tls: RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(tls);
    return new HttpsAgent({
      keepAlive: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...(cluster.tlsServerName !== undefined ? { servername: cluster.tlsServerName } : {}),
    });
  };
  const auth = {
    getName: () => "kubeconfig with keep-alive",
    applySecurityAuthentication: async (context: RequestContext) => {
      await kubeConfig.applySecurityAuthentication(context);
      agent ??= sharedAgent();
      context.setAgent(await agent);
    },
  };
  return createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: auth } });
}

/** Patches tried on one listing before listing again. */
const ATTEMPTS_PER_LIST = 3;
/** How soon to list again when every candidate is being claimed by this server. */
const RELIST_AFTER_MS = 20;
/** How long a pod this server tried to claim is not tried again: a listing may still show it. */
const TAKEN_MEMORY_MS = 10_000;

/**
 * The pods this server is claiming or has just tried, by uid. Concurrent claims in one server
 * never patch the same pod, and a listing taken a moment before a claim won does not send
 * another claimer after that pod: conflicts are left to claims from other replicas.
 */
class TakenPods {
  private readonly until = new Map<string, number>();

  has(pod: V1Pod): boolean {
    const uid = pod.metadata?.uid ?? "";
    const until = this.until.get(uid);
    if (until === undefined) return false;
    if (until > performance.now()) return true;
    this.until.delete(uid);
    return false;
  }

  /** Marks the pod taken while `work` runs, and for a while after unless `work` threw. */
  async during<T>(pod: V1Pod, work: () => Promise<T>): Promise<T> {
    const uid = pod.metadata?.uid ?? "";
    this.until.set(uid, Infinity);
    try {
      const result = await work();
      this.until.set(uid, performance.now() + TAKEN_MEMORY_MS);
      return result;
    } catch (error) {
      // An API error says nothing about the pod: another claim may try it.
      this.until.delete(uid);
      throw error;
    }
  }
}

type Outcome = { result: AllocationResult; answer: ClaimResult };

/**
 * Claim step 2: the ready pods a Sandbox may take, or why there are none (in the seed's words).
 * Whether a pod matches the Sandbox's pod is asked as pods come up for a claim.
 */
function candidates(pods: V1Pod[], request: ClaimRequest): { pods: V1Pod[] } | Outcome {
  const available = pods.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
  if (available.length === 0) {
    return cold("no_available_pods", Reason.NoWarmPodAvailable, `Every warm pod for ${request.runtime} is being deleted.`);
  }
  const ready = available.filter(isReady);
  if (ready.length === 0) {
    return cold("no_ready_pods", Reason.NoWarmPodAvailable, `${available.length} warm pods for ${request.runtime} are still starting.`);
  }
  return { pods: ready };
}

/** No ready pod matches the pod the Sandbox needs: what differs, from the first of them. */
function incompatible(ready: readonly V1Pod[], request: ClaimRequest): Outcome {
  const differences = ready[0] === undefined ? [] : warmPodDifferences(plainPod(ready[0]), request.coldPod);
  return cold(
    "no_matching_pools",
    Reason.WarmPodIncompatible,
    `The ready warm pods differ from the pod this Sandbox needs in: ${differences.join(", ")}; it starts a cold pod.`,
  );
}

/** A one-argument function that works each argument out once. */
function memo<T extends object, R>(work: (argument: T) => R): (argument: T) => R {
  const known = new Map<T, R>();
  return (argument) => {
    if (!known.has(argument)) known.set(argument, work(argument));
    return known.get(argument) as R;
  };
}

function cold(result: AllocationResult, reason: string, message: string): Outcome {
  return { result, answer: { outcome: "cold", reason, message } };
}

function claimed(pod: V1Pod): ClaimResult {
  const plain = plainPod(pod);
  return { outcome: "claimed", pod: keepObserved(plain), observed: plain, pool: pod.metadata?.labels?.[LABEL_POOL] ?? "" };
}

/** Plain copies of the pods of shared listings, made once each (see {@link plainPod}). */
const plainPods = new WeakMap<V1Pod, KubeObject>();

/**
 * client-node's model of a pod as a plain object. Pods' wire field names match the model's, and
 * {@link keepObserved} keeps only metadata names, labels and annotations besides the spec. Each
 * pod of a listing is copied once however many claims look at it; callers do not change it.
 */
function plainPod(pod: V1Pod): KubeObject {
  let plain = plainPods.get(pod);
  if (plain === undefined) {
    plain = { ...(JSON.parse(JSON.stringify(pod)) as KubeObject), apiVersion: "v1", kind: "Pod" };
    plainPods.set(pod, plain);
  }
  return plain;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.phase === "Running" && pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

function byName(a: V1Pod, b: V1Pod): number {
  const [x, y] = [a.metadata?.name ?? "", b.metadata?.name ?? ""];
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Highest random weight first: each Sandbox ranks the pods by a hash of (its uid, the pod's
 * name), so concurrent claimers mostly try different pods and conflicts stay rare, yet a retried
 * sync of one Sandbox tries the same pods in the same order.
 */
export function rendezvousOrder<T extends { metadata?: { name?: string } }>(sandboxUid: string, pods: readonly T[]): T[] {
  const weight = (pod: T) => createHash("sha256").update(`${sandboxUid}/${pod.metadata?.name ?? ""}`).digest("hex");
  return pods
    .map((pod) => ({ pod, weight: weight(pod) }))
    .sort((a, b) => (a.weight < b.weight ? 1 : a.weight > b.weight ? -1 : 0))
    .map(({ pod }) => pod);
}

/** JSON pointer to a label: `/` in the key is written `~1` (RFC 6901). */
function labelPath(key: string): string {
  return `/metadata/labels/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

function annotationPath(key: string): string {
  return `/metadata/annotations/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

/**
 * The claim (SPEC §6 step 4) as one JSON patch: it applies only if the pod is still the one we
 * listed and still `available`. The Sandbox becomes the pod's controller (so Metacontroller sees
 * it as the Sandbox's child and the pool no longer does); the pool stays a plain owner, which
 * keeps the pod alive when the pool is deleted and tells a release where to go back to.
 */
function claimPatch(pod: V1Pod, sandbox: Sandbox, now: string): object[] {
  const uid = sandbox.metadata.uid ?? "";
  const sandboxRef: OwnerReference = {
    apiVersion: API_VERSION,
    kind: "Sandbox",
    name: sandbox.metadata.name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const others = (pod.metadata?.ownerReferences ?? []).map((ref) => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    name: ref.name,
    uid: ref.uid,
    controller: false,
  }));
  return [
    { op: "test", path: "/metadata/uid", value: pod.metadata?.uid },
    { op: "test", path: labelPath(LABEL_WARM_STATE), value: "available" },
    { op: "replace", path: labelPath(LABEL_WARM_STATE), value: "claimed" },
    { op: "add", path: labelPath(LABEL_CLAIMED_BY), value: uid },
    { op: "add", path: labelPath(LABEL_SANDBOX_ID), value: labelValue(sandbox.metadata.name) },
    { op: "add", path: labelPath(LABEL_SANDBOX_UID), value: uid },
    { op: "add", path: labelPath(LABEL_CONTROLLER_UID), value: uid },
    pod.metadata?.annotations === undefined
      ? { op: "add", path: "/metadata/annotations", value: { [ANNOTATION_CLAIMED_AT]: now } }
      : { op: "add", path: annotationPath(ANNOTATION_CLAIMED_AT), value: now },
    { op: "replace", path: "/metadata/ownerReferences", value: [sandboxRef, ...others] },
  ];
}

/** Gives a claimed pod back: conditional on the claim still being this Sandbox's. */
function releasePatch(pod: V1Pod, sandboxUid: string, pool: { apiVersion: string; kind: string; name: string; uid: string }): object[] {
  const remove = (key: string) =>
    pod.metadata?.labels?.[key] === undefined ? [] : [{ op: "remove", path: labelPath(key) }];
  return [
    { op: "test", path: labelPath(LABEL_CLAIMED_BY), value: sandboxUid },
    { op: "test", path: labelPath(LABEL_WARM_STATE), value: "claimed" },
    { op: "replace", path: labelPath(LABEL_WARM_STATE), value: "available" },
    ...remove(LABEL_CLAIMED_BY),
    ...remove(LABEL_SANDBOX_ID),
    ...remove(LABEL_SANDBOX_UID),
    { op: "add", path: labelPath(LABEL_CONTROLLER_UID), value: pool.uid },
    ...(pod.metadata?.annotations?.[ANNOTATION_CLAIMED_AT] === undefined ? [] : [{ op: "remove", path: annotationPath(ANNOTATION_CLAIMED_AT) }]),
    {
      op: "replace",
      path: "/metadata/ownerReferences",
      value: [{ apiVersion: pool.apiVersion, kind: pool.kind, name: pool.name, uid: pool.uid, controller: true, blockOwnerDeletion: true }],
    },
  ];
}

function describe(error: unknown): string {
  if (error instanceof ApiException) return `HTTP ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}
