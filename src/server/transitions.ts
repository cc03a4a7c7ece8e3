/**
 * Sandbox transitions (a suspension, a resume, a run's start), counted once each. The sync that
 * records a transition names it with a key (see hooks/sandbox-sync.ts); a sync that Metacontroller
 * makes from a stale cache, on this replica or another, names the same transition with the same
 * key. What makes the count exact is a write that only one of them can win: the transition is
 * recorded as a Kubernetes Event whose name comes from the key, and only the server whose create
 * succeeded counts it. Without a cluster, this server's memory of recent keys stands in.
 *
 * The hooks stay pure: the sync hook only names transitions. The Events are written in the
 * background, so no answer waits for them.
 */
import type { SandboxTransition } from "../../hooks/sandbox-sync.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";

/** Where transitions are recorded once, cluster-wide. */
export interface TransitionStore {
  /**
   * Records the transition: true if this call recorded it, false if it had been recorded
   * before. Throws when it cannot tell (the API failed); the caller may try again.
   */
  record(transition: SandboxTransition, now: Date): Promise<boolean>;
}

/** Tries a store write gets before the transition is given up, uncounted, with a warning. */
const ATTEMPTS = 3;
const RETRY_AFTER_MS = [200, 1000];

/**
 * The last `capacity` keys seen. A Set iterates in insertion order, so the oldest goes first
 * once it is full.
 */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value as string);
  }
}

export interface TransitionsOptions {
  metrics: Metrics;
  /** The cluster-wide record; without one, only this server's memory dedupes. */
  store?: TransitionStore;
  clock: () => Date;
  logger?: Logger;
  /** How long to wait between tries. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** Counts each transition once: in the store when there is one, else in this server's memory. */
export class Transitions {
  /** Keys this server recorded or found recorded: a stale sync here costs no API call. */
  private readonly seen = new RecentKeys();
  /** Recordings on their way, by key: a second sync with the same key joins the first. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: TransitionsOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Records and counts the transition in the background; {@link settled} waits for it. */
  record(transition: SandboxTransition): void {
    const { key } = transition;
    if (this.seen.has(key) || this.pending.has(key)) return;
    const recording = this.recordOnce(transition)
      .catch((error: unknown) => {
        this.options.logger?.error({ key, err: error }, "Failed to count a Sandbox transition");
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, recording);
  }

  /** Resolves once every recording started so far has ended (a drain waits for this). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending.values());
  }

  private async recordOnce(transition: SandboxTransition): Promise<void> {
    const { store, logger } = this.options;
    if (store === undefined) {
      this.seen.add(transition.key);
      this.count(transition);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const first = await store.record(transition, this.options.clock());
        this.seen.add(transition.key);
        if (first) this.count(transition);
        return;
      } catch (error) {
        if (attempt === ATTEMPTS) {
          logger?.warn(
            { namespace: transition.sandbox.namespace, sandbox: transition.sandbox.name, transition: transition.kind, key: transition.key, err: error },
            "Could not record a Sandbox transition; it is not counted",
          );
          return;
        }
        await this.sleep(RETRY_AFTER_MS[attempt - 1] ?? 1000);
      }
    }
  }

  private count(transition: SandboxTransition): void {
    const { metrics } = this.options;
    switch (transition.kind) {
      case "Suspended":
        metrics.suspends.inc({ reason: transition.reason });
        return;
      case "Resumed":
        metrics.resumes.inc();
        return;
      case "Ready":
        metrics.readySeconds.observe({ path: transition.path, runtime: transition.runtime, security_level: transition.securityLevel }, transition.seconds);
        if (transition.resumeSeconds !== undefined) metrics.resumeDuration.observe(transition.resumeSeconds);
        return;
    }
  }
}
