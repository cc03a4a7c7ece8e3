/**
 * A stand-in for the scheduler and the kubelet, which this machine cannot run (no container
 * runtime): it binds every new pod to one fake node, reports it Running and Ready through the
 * pods/status subresource after a short delay, and finishes a deletion as a kubelet does once
 * the containers have stopped (a delete with grace period 0 and the pod's uid as precondition).
 *
 * Nothing runs in the pods, so nothing here probes them: the delay stands for the container's
 * start and its first readiness probe.
 */
import { KubeConfig, Watch } from "@kubernetes/client-node";
import { describeStatus, type KubeClient } from "../../integration/support/kube.js";

export interface KubeletOptions {
  /** @default "e2e-node" */
  nodeName?: string;
  /** From seeing a pod bound to when it is Running and Ready. @default 100 */
  readyAfterMs?: number;
  /** From seeing a pod's deletion to when its containers have stopped. @default 50 */
  stopAfterMs?: number;
}

export interface Pod {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status?: { phase?: string };
}

/** What the stand-in has done to each pod, by uid, so each step happens once. */
type Step = "bound" | "ready" | "deleted";

export class KubeletStandIn {
  readonly nodeName: string;
  private readonly readyAfterMs: number;
  private readonly stopAfterMs: number;
  private readonly done = new Map<string, Set<Step>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private abort: AbortController | undefined;
  private stopped = false;
  private podIps = 0;
  /** Failures of the stand-in's own calls: a test fails on them rather than waiting forever. */
  readonly errors: string[] = [];
  /** Pods not to report Ready for now (a slow image pull, say), and the pods held back. */
  private holds: { matches: (pod: Pod) => boolean; held: Map<string, Pod> }[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly kubeConfigPath: string,
    options: KubeletOptions = {},
  ) {
    this.nodeName = options.nodeName ?? "e2e-node";
    this.readyAfterMs = options.readyAfterMs ?? 100;
    this.stopAfterMs = options.stopAfterMs ?? 50;
  }

  /** Registers the node, then acts on every pod there is and every pod to come. */
  async start(): Promise<void> {
    await this.registerNode();
    await this.watchFromList();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async registerNode(): Promise<void> {
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: this.nodeName, labels: { "kubernetes.io/hostname": this.nodeName } } };
    const created = await this.client.create(node);
    if (created.status !== 201 && created.status !== 409) throw new Error(`Could not register node ${this.nodeName}: ${describeStatus(created)}`);
    const now = new Date().toISOString();
    const status = await this.client.request("PATCH", `/api/v1/nodes/${this.nodeName}/status`, {
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet stand-in", lastHeartbeatTime: now, lastTransitionTime: now }],
        capacity: { cpu: "64", memory: "256Gi", pods: "1000", "ephemeral-storage": "1Ti" },
        allocatable: { cpu: "64", memory: "256Gi", pods: "1000", "ephemeral-storage": "1Ti" },
      },
    }, "application/merge-patch+json");
    if (status.status !== 200) throw new Error(`Could not report node ${this.nodeName} Ready: ${describeStatus(status)}`);
  }

  /** Lists every pod, acts on each, and watches from the list's resourceVersion; again on any end. */
  private async watchFromList(): Promise<void> {
    if (this.stopped) return;
    const list = await this.client.request<{ metadata: { resourceVersion: string }; items: Pod[] }>("GET", "/api/v1/pods");
    if (list.status !== 200) throw new Error(`The kubelet stand-in could not list pods: ${describeStatus(list)}`);
    for (const pod of list.body.items) this.observe(pod);
    const config = new KubeConfig();
    config.loadFromFile(this.kubeConfigPath);
    const abort = await new Watch(config).watch(
      "/api/v1/pods",
      { resourceVersion: list.body.metadata.resourceVersion, allowWatchBookmarks: false },
      (type: string, pod: Pod) => {
        if (type === "ADDED" || type === "MODIFIED") this.observe(pod);
        if (type === "DELETED") this.done.delete(pod.metadata.uid);
      },
      // The API server ends watches now and then (and on a restart): list and watch again.
      () => { this.rewatch(); },
    );
    this.abort = abort;
    // Stopped while the watch was being set up: nothing may outlive stop().
    if (this.isStopped()) abort.abort();
  }

  /** Read anew each time: stop() may come during any await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /** Lists and watches again soon, and again after each failure, until stopped. */
  private rewatch(): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.watchFromList().catch((error: unknown) => {
        if (this.stopped) return;
        this.errors.push(`The kubelet stand-in lost its watch: ${error instanceof Error ? error.message : String(error)}`);
        this.rewatch();
      });
    }, 100);
    this.timers.add(timer);
  }

  /**
   * Holds back the readiness of pods that `matches` picks, as a slow start would, until the
   * returned function is called; then they become Ready as any other.
   */
  hold(matches: (pod: Pod) => boolean): () => void {
    const hold = { matches, held: new Map<string, Pod>() };
    this.holds.push(hold);
    return () => {
      this.holds = this.holds.filter((h) => h !== hold);
      for (const pod of hold.held.values()) this.observe(pod);
    };
  }

  private observe(pod: Pod): void {
    const { uid } = pod.metadata;
    if (pod.metadata.deletionTimestamp !== undefined) {
      // Unbound pods are deleted by the API server itself.
      if (pod.spec.nodeName === this.nodeName) this.once(uid, "deleted", this.stopAfterMs, () => this.finishDeletion(pod));
    } else if (pod.spec.nodeName === undefined) {
      this.once(uid, "bound", 0, () => this.bind(pod));
    } else if (pod.spec.nodeName === this.nodeName && pod.status?.phase !== "Running") {
      const hold = this.holds.find((h) => h.matches(pod));
      if (hold !== undefined) {
        hold.held.set(uid, pod);
        return;
      }
      this.once(uid, "ready", this.readyAfterMs, () => this.reportReady(pod));
    }
  }

  private once(uid: string, step: Step, delayMs: number, work: () => Promise<void>): void {
    const steps = this.done.get(uid) ?? new Set<Step>();
    if (steps.has(step)) return;
    steps.add(step);
    this.done.set(uid, steps);
    this.later(delayMs, work);
  }

  private later(delayMs: number, work: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work().catch((error: unknown) => {
        if (!this.stopped) this.errors.push(error instanceof Error ? error.message : String(error));
      });
    }, delayMs);
    this.timers.add(timer);
  }

  /** The scheduler's part: the pods/binding subresource, as kube-scheduler binds. */
  private async bind(pod: Pod): Promise<void> {
    const { name, namespace, uid } = pod.metadata;
    const response = await this.client.request("POST", `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name, namespace, uid },
      target: { apiVersion: "v1", kind: "Node", name: this.nodeName },
    });
    // 404: deleted meanwhile; 409: bound meanwhile.
    if (response.status !== 201 && response.status !== 404 && response.status !== 409) {
      throw new Error(`Could not bind pod ${namespace}/${name}: ${describeStatus(response)}`);
    }
  }

  /** The kubelet's report of a started pod whose containers passed their readiness probes. */
  private async reportReady(pod: Pod): Promise<void> {
    const { name, namespace } = pod.metadata;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const condition = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: now });
    const ip = `10.244.${Math.floor(this.podIps / 250)}.${(this.podIps % 250) + 2}`;
    this.podIps++;
    const response = await this.client.request(
      "PATCH",
      `/api/v1/namespaces/${namespace}/pods/${name}/status`,
      {
        metadata: { uid: pod.metadata.uid },
        status: {
          phase: "Running",
          hostIP: "127.0.0.1",
          hostIPs: [{ ip: "127.0.0.1" }],
          podIP: ip,
          podIPs: [{ ip }],
          startTime: now,
          conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map(condition),
          containerStatuses: pod.spec.containers.map((container) => ({
            name: container.name,
            image: container.image,
            imageID: "",
            containerID: `containerd://${pod.metadata.uid}-${container.name}`,
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: now } },
          })),
        },
      },
      // A strategic merge patch: conditions and container statuses merge by their keys.
      "application/strategic-merge-patch+json",
    );
    // 404: deleted meanwhile; 409 or 422: the uid is not this pod's (a new pod of the same name),
    // as a uid precondition or as a change of an immutable field.
    if (response.status !== 200 && response.status !== 404 && response.status !== 409 && response.status !== 422) {
      throw new Error(`Could not report pod ${namespace}/${name} Ready: ${describeStatus(response)}`);
    }
  }

  /** What the kubelet does once a deleted pod's containers stopped. */
  private async finishDeletion(pod: Pod): Promise<void> {
    const { name, namespace, uid } = pod.metadata;
    const response = await this.client.request("DELETE", `/api/v1/namespaces/${namespace}/pods/${name}`, {
      apiVersion: "v1",
      kind: "DeleteOptions",
      gracePeriodSeconds: 0,
      preconditions: { uid },
    });
    if (response.status !== 200 && response.status !== 404 && response.status !== 409) {
      throw new Error(`Could not finish deleting pod ${namespace}/${name}: ${describeStatus(response)}`);
    }
  }
}
