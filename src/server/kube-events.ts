/**
 * Sandbox transitions recorded as Kubernetes Events, one per transition: the Event's name comes
 * from the transition's key, so of all the hook replicas (and restarts) that record the same
 * transition exactly one create succeeds and the others get 409 AlreadyExists. `kubectl describe
 * sandbox` shows them.
 *
 * Core v1 Events, as `kubectl describe` and client-go's recorder use them. Kubernetes keeps an
 * Event for an hour (kube-apiserver --event-ttl); a stale sync repeats a transition within
 * seconds of it.
 */
import { createHash } from "node:crypto";
import { ApiException, CoreV1Api, type CoreV1Event, type KubeConfig } from "@kubernetes/client-node";
import type { SandboxTransition } from "../../hooks/sandbox-sync.js";
import { API_VERSION } from "../api/index.js";
import type { TransitionStore } from "./transitions.js";

/** The Events' reporting component, as `kubectl get events` shows it in FROM. */
export const REPORTING_COMPONENT = "llmsafespace.dev/hooks";

/** What the Sandbox did, in the Event's `action` (machine-readable, as events.k8s.io/v1 has it). */
const ACTIONS: Record<SandboxTransition["kind"], string> = { Suspended: "Suspend", Resumed: "Resume", Ready: "Start" };

export class KubernetesEventStore implements TransitionStore {
  constructor(
    private readonly api: CoreV1Api,
    /**
     * This server's name in the Event's `reportingInstance`: its pod's, and one of its own
     * (a restarted container keeps the pod's name but must not take its Events for its own).
     */
    private readonly instance: string,
  ) {}

  static fromKubeConfig(kubeConfig: KubeConfig, instance: string): KubernetesEventStore {
    return new KubernetesEventStore(kubeConfig.makeApiClient(CoreV1Api), instance);
  }

  async record(transition: SandboxTransition, now: Date): Promise<boolean> {
    const { namespace } = transition.sandbox;
    try {
      await this.api.createNamespacedEvent({ namespace, body: transitionEvent(transition, now, this.instance) });
      return true;
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    }
    // It exists: another replica's, or this one's from an earlier try whose answer was lost.
    const existing = await this.api.readNamespacedEvent({ namespace, name: eventName(transition) });
    return existing.reportingInstance === this.instance;
  }
}

/** The Event's name: the Sandbox's, then a digest of the key (`kubectl get events` sorts by it). */
export function eventName(transition: SandboxTransition): string {
  const digest = createHash("sha256").update(transition.key).digest("hex").slice(0, 16);
  // An object name is at most 253 characters.
  return `${transition.sandbox.name.slice(0, 253 - digest.length - 1)}.${digest}`;
}

export function transitionEvent(transition: SandboxTransition, now: Date, instance: string): CoreV1Event {
  const { namespace, name, uid } = transition.sandbox;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: eventName(transition), namespace },
    involvedObject: { apiVersion: API_VERSION, kind: "Sandbox", namespace, name, uid },
    ...(transition.kind === "Ready" ? { related: { apiVersion: "v1", kind: "Pod", namespace, name: transition.pod } } : {}),
    type: "Normal",
    reason: transition.kind,
    action: ACTIONS[transition.kind],
    message: transition.message,
    source: { component: REPORTING_COMPONENT },
    reportingComponent: REPORTING_COMPONENT,
    reportingInstance: instance,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
