/**
 * What the claim tests on the API-server tier share: hook server instances with a real claimer,
 * WarmPools with Ready pods (no kubelet: the test reports them Ready), Sandboxes, and sync calls
 * built as Metacontroller would build them.
 */
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import type { RequestListener } from "node:http";
import request from "supertest";
import { createApp } from "../../../src/server/app.js";
import { loadConfig } from "../../../src/server/config.js";
import { sandboxChildName } from "../../../src/children/labels.js";
import { createLogger } from "../../../src/server/log.js";
import { createMetrics, type Metrics } from "../../../src/server/metrics.js";
import { RequestValidators } from "../../../src/server/validation.js";
import { metricsObserver } from "../../../src/server/metrics.js";
import { KubernetesEventStore } from "../../../src/server/kube-events.js";
import { Transitions } from "../../../src/server/transitions.js";
import { KubernetesWarmPods } from "../../../src/warm-pool/warm-pod-claimer.js";
import { answerFixture } from "../../support/app.js";
import { fixtureCases } from "../../support/fixtures.js";
import { describeStatus, type KubeObjectLike } from "./kube.js";
import { cluster } from "../setup.js";

/** The namespace the helpers work in; a test file sets its own in a `before`. */
export const place = { namespace: "warm" };

/** Creates a namespace enforcing Pod Security "restricted" and makes the helpers work in it. */
export async function useNamespace(name: string): Promise<void> {
  place.namespace = name;
  await mustCreate({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
  });
}
export const RUNTIME_ENVIRONMENT = {
  apiVersion: "llmsafespace.dev/v1",
  kind: "RuntimeEnvironment",
  metadata: { name: "python-3.10" },
  spec: { image: "ghcr.io/llmsafespace/runtime-python:3.10", language: "python", securityFeatures: ["seccomp"] },
};

export interface Pod extends KubeObjectLike {
  metadata: KubeObjectLike["metadata"] & {
    uid?: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
}

export interface SyncAnswer {
  children: (KubeObjectLike & { spec?: { selector?: Record<string, string> } })[];
  status: { conditions?: { type: string; status: string; reason: string }[] };
}

let validators: RequestValidators | undefined;
/** Hook servers made so far. */
let servers = 0;

/** A hook server instance of its own, with its own API client, as a second replica would be. */
export function hookServer(options: { kubeconfig?: string; deadlineMs?: number } = {}): { app: RequestListener; metrics: Metrics; transitions: Transitions } {
  validators ??= new RequestValidators();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(options.kubeconfig ?? cluster().kubeconfigPath);
  const metrics = createMetrics({ processMetrics: false });
  const pods = KubernetesWarmPods.fromKubeConfig(kubeConfig, {
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    observer: metricsObserver(metrics),
  });
  const clock = () => new Date();
  const logger = createLogger("silent");
  // Each server its own reportingInstance, as each hook process has (its pod's name and a suffix of its own).
  const instance = `test-hooks-${++servers}`;
  const transitions = new Transitions({ metrics, clock, logger, store: KubernetesEventStore.fromKubeConfig(kubeConfig, instance) });
  const app = createApp({
    config: loadConfig({}),
    validators,
    claimer: pods,
    retirer: pods,
    recycler: pods,
    clock,
    logger,
    metrics,
    transitions,
  });
  return { app, metrics, transitions };
}

export async function mustCreate<T = KubeObjectLike>(object: KubeObjectLike): Promise<T> {
  const response = await cluster().client.create<T>(object);
  assert.equal(response.status, 201, `${object.kind} ${object.metadata.name}: ${describeStatus(response)}`);
  return response.body;
}

export async function createSandbox(name: string): Promise<KubeObjectLike> {
  return mustCreate({
    apiVersion: "llmsafespace.dev/v1",
    kind: "Sandbox",
    metadata: { name, namespace: place.namespace, annotations: { "llmsafespace.dev/use-warm-pod": "true" } },
    spec: { runtime: "python:3.10" },
  });
}

/** The cold pod the hook builds for a plain Sandbox: the shape a compatible warm pod must have. */
export async function coldPodTemplate(): Promise<Pod> {
  const fixture = fixtureCases("sandbox").find((c) => c.name === "standard-minimal");
  if (fixture === undefined) throw new Error("fixture standard-minimal is missing");
  const body = fixture.request();
  body.related = { "RuntimeEnvironment.llmsafespace.dev/v1": { "python-3.10": RUNTIME_ENVIRONMENT } };
  const answer = await answerFixture(fixture, body);
  const pod = answer.body.children?.find((c) => c.kind === "Pod");
  if (pod === undefined) throw new Error("the sync hook built no pod");
  return pod;
}

/** Creates a WarmPool and `count` Ready warm pods owned by it, as its sync hook would have. */
export async function warmPool(name: string, count: number, spec: Record<string, unknown> = {}): Promise<{ pool: KubeObjectLike; pods: string[] }> {
  const pool = await mustCreate({
    apiVersion: "llmsafespace.dev/v1",
    kind: "WarmPool",
    metadata: { name, namespace: place.namespace },
    spec: { runtime: "python:3.10", minSize: count, ...spec },
  });
  const template = await coldPodTemplate();
  const names: string[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const podName = `${name}-${String(index).padStart(2, "0")}`;
      names.push(podName);
      const pod = structuredClone(template);
      pod.metadata = {
        name: podName,
        namespace: place.namespace,
        labels: {
          app: "llmsafespace",
          "app.kubernetes.io/managed-by": "llmsafespace-hooks",
          component: "warmpod",
          pool: name,
          runtime: "python-3.10",
          "security-level": "standard",
          "llmsafespace.dev/warm-state": "available",
          "controller-uid": String(pool.metadata.uid),
        },
        annotations: { "llmsafespace.dev/warm-pod": "true" },
        ownerReferences: [{ apiVersion: "llmsafespace.dev/v1", kind: "WarmPool", name, uid: String(pool.metadata.uid), controller: true }],
      };
      const created = await mustCreate<Pod>(pod);
      // No kubelet runs here: the test plays its part and reports the pod Ready.
      const ready = await cluster().client.replaceStatus({
        ...created,
        status: {
          phase: "Running",
          conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") }],
        },
      });
      assert.equal(ready.status, 200, describeStatus(ready));
    }),
  );
  return { pool, pods: names.sort() };
}

/**
 * A sync request as Metacontroller sends it once the Sandbox's ServiceAccount exists, so that a
 * Sandbox that gets no warm pod gets its cold pod in the same answer (SPEC §4.2), with `children`
 * observed besides.
 */
export function syncBody(sandbox: KubeObjectLike, children: KubeObjectLike[] = []) {
  const account = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sandboxChildName(sandbox.metadata.name), namespace: place.namespace } };
  const childMap: Record<string, Record<string, KubeObjectLike>> = { "Pod.v1": {} };
  for (const child of [account, ...children]) (childMap[`${child.kind}.${child.apiVersion}`] ??= {})[`${place.namespace}/${child.metadata.name}`] = child;
  return {
    controller: { apiVersion: "metacontroller.k8s.io/v1alpha1", kind: "CompositeController", metadata: { name: "sandboxes" } },
    parent: sandbox,
    children: childMap,
    related: { "RuntimeEnvironment.llmsafespace.dev/v1": { "python-3.10": RUNTIME_ENVIRONMENT } },
    finalizing: false,
  };
}

export async function sync(app: RequestListener, body: unknown): Promise<SyncAnswer> {
  const response = await request(app).post("/sandbox/sync").set("content-type", "application/json").send(JSON.stringify(body));
  assert.equal(response.status, 200, response.text);
  return response.body as SyncAnswer;
}

export function warmCondition(answer: SyncAnswer) {
  return answer.status.conditions?.find((c) => c.type === "WarmPodClaimed");
}

export function podOf(answer: SyncAnswer) {
  return answer.children.find((c) => c.kind === "Pod");
}

export async function podsOf(pool: string): Promise<Pod[]> {
  const response = await cluster().client.request<{ items: Pod[] }>(
    "GET",
    `/api/v1/namespaces/${place.namespace}/pods?labelSelector=${encodeURIComponent(`pool=${pool}`)}`,
  );
  // List items carry no apiVersion and kind; Metacontroller sends children with them.
  return response.body.items.map((pod) => ({ ...pod, apiVersion: "v1", kind: "Pod" }));
}

export async function podNamed(name: string): Promise<Pod> {
  const response = await cluster().client.request<Pod>("GET", `/api/v1/namespaces/${place.namespace}/pods/${name}`);
  assert.equal(response.status, 200, describeStatus(response));
  return { ...response.body, apiVersion: "v1", kind: "Pod" };
}

export async function counterValue(metrics: Metrics, name: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

