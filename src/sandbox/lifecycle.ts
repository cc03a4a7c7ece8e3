/**
 * A Sandbox over time (SPEC §4.4, issue #14): how much of its timeout it has used, whether it is
 * suspended and why, when it goes idle, and when a resumed pod became Ready. Pure: everything
 * comes from the parent, its serving pod and `now`, and the status it returns carries what the
 * next sync needs.
 */
import type { Sandbox, SandboxStatus } from "../api/index.js";
import { ConditionType, Reason, formatTime, type ObservedPod } from "../api/index.js";
import { ANNOTATION_LAST_ACTIVITY } from "../children/index.js";
import { servingSince, startTimeOf } from "./sandbox.js";

export type SuspendReason = typeof Reason.Requested | typeof Reason.Idle;

/** What `spec.suspend` was when a Sandbox went idle: it stays suspended until that changes. */
export type SpecSuspendAtIdle = "Unset" | "False";

/** `spec.suspend` of a Sandbox that is not asked to suspend, as an idle suspension records it. */
function specSuspendOf(sandbox: Sandbox): SpecSuspendAtIdle {
  return sandbox.spec.suspend === false ? "False" : "Unset";
}

/** Where idle time stands, for a Sandbox with `spec.lifecycle.idleTimeout` that is running. */
export interface IdleState {
  /** When it goes (or went) idle. */
  deadline: string;
  idle: boolean;
  /** The annotation's value, when it is not an RFC 3339 time and so ignored. */
  invalidActivity?: string;
}

export interface Lifecycle {
  /** When the Sandbox first became Running. */
  startTime?: string;
  /** When the current run began; unset while it does not run. */
  runningSince?: string;
  /** Seconds of Running before the current run. */
  runningSeconds: number;
  /** Seconds of timeout left; unset until the Sandbox has run. */
  secondsLeft?: number;
  /** The lifetime is over: by the timeout, or by the idle timeout with `onIdle: Terminate`. */
  expired: false | typeof Reason.TimeoutExceeded | typeof Reason.IdleTimeoutExceeded;
  /** Why it is suspended, when it is. */
  suspended?: SuspendReason;
  /** What `spec.suspend` was when it went idle; the idle suspension holds until that changes. */
  specSuspendAtIdle?: SpecSuspendAtIdle;
  /** Its current status says Suspended. */
  wasSuspended: boolean;
  /** Whether the Sandbox has ever been suspended: its status then keeps the run fields. */
  everSuspended: boolean;
  idle?: IdleState;
  lastResumeSeconds?: number;
  /** Whether this sync saw a resumed pod Ready for the first time. */
  resumedReady: boolean;
  /** Whether this sync records the start of a run: its status has none yet, and its pod is Ready. */
  runStarted: boolean;
}

/** The parent's Suspended condition, as its current status has it. */
function previousSuspended(status: SandboxStatus | undefined) {
  return status?.conditions?.find((c) => c.type === ConditionType.Suspended);
}

/**
 * The Sandbox's lifecycle as of `now`, served by `pod` (the observed pod, or one just claimed).
 *
 * Suspended: `spec.suspend` is true, or it went idle with `onIdle: Suspend` and `spec.suspend`
 * has not changed since (from unset to false, or from false to unset, resumes it; no other
 * change to the spec does). The timeout counts
 * Running time only: a run ends when the Sandbox is suspended, and a resumed one starts when its
 * new pod is Ready.
 */
export function lifecycleOf(sandbox: Sandbox, pod: ObservedPod | undefined, now: Date): Lifecycle {
  const status = sandbox.status;
  const previous = previousSuspended(status);
  // Its status keeps the run fields from its first suspension on, past its end too.
  const everSuspended = previous !== undefined || status?.runningSeconds !== undefined;
  const wasSuspended = previous?.status === "True";
  const earlier = status?.runningSeconds ?? 0;
  const latched = status?.conditions?.find((c) => c.type === ConditionType.Expired && c.status === "True");

  // The current run: carried over once recorded; else from a live pod that is Ready. A pod
  // still there when a suspended Sandbox resumes starts its run now, not when it was Ready.
  const live = pod?.metadata.deletionTimestamp === undefined ? pod : undefined;
  const carried = wasSuspended ? undefined : everSuspended ? status?.runningSince : status?.startTime;
  let runStart = startTimeOf(carried, live, now);
  if (wasSuspended && runStart !== undefined) runStart = formatTime(now);
  const ranNow = runStart === undefined ? 0 : Math.max(0, (now.getTime() - Date.parse(runStart)) / 1000);
  const timeout = sandbox.spec.timeout;
  const hasRun = runStart !== undefined || earlier > 0 || status?.startTime !== undefined;

  // Each result is built field by field, not as `{ ...base, more }`: V8 takes a slow path for
  // keys added after a spread (see src/api/observed.ts), about a microsecond on every sync.
  const result = (runningSeconds: number, left: number, expired: Lifecycle["expired"]): Lifecycle => {
    const lifecycle: Lifecycle = { startTime: status?.startTime ?? runStart, runningSeconds, expired, everSuspended, wasSuspended, resumedReady: false, runStarted: false };
    if (hasRun) lifecycle.secondsLeft = left;
    if (status?.lastResumeSeconds !== undefined) lifecycle.lastResumeSeconds = status.lastResumeSeconds;
    return lifecycle;
  };
  const stopped = (runningSeconds: number, suspended?: SuspendReason, idle?: IdleState): Lifecycle => {
    const left = timeout - runningSeconds;
    let expired: Lifecycle["expired"] = hasRun && left <= 0 ? Reason.TimeoutExceeded : false;
    if (latched !== undefined) expired = latched.reason === Reason.IdleTimeoutExceeded ? Reason.IdleTimeoutExceeded : Reason.TimeoutExceeded;
    const lifecycle = result(runningSeconds, left, expired);
    if (suspended === undefined) return lifecycle;
    lifecycle.everSuspended = true;
    if (expired === false) {
      lifecycle.suspended = suspended;
      if (suspended === Reason.Idle) lifecycle.specSuspendAtIdle = specSuspendOf(sandbox);
    }
    if (idle !== undefined) lifecycle.idle = idle;
    return lifecycle;
  };

  // Over: the run fields stay as they were when it ended.
  if (latched !== undefined) return stopped(earlier);
  if (sandbox.spec.suspend === true) return stopped(Math.round(earlier + ranNow), Reason.Requested);
  if (status !== undefined && wasSuspended && previous.reason === Reason.Idle && status.specSuspendAtIdle === specSuspendOf(sandbox)) {
    return stopped(Math.round(earlier + ranNow), Reason.Idle, { deadline: status.idleDeadline ?? formatTime(now), idle: true });
  }

  const idle = idleOf(sandbox, runStart, now);
  if (idle?.idle === true) {
    if (sandbox.spec.lifecycle?.onIdle !== "Terminate") return stopped(Math.round(earlier + ranNow), Reason.Idle, idle);
    // Ends as an expired timeout does, and latches the same way.
    const ended = stopped(earlier);
    if (ended.expired === false) ended.expired = Reason.IdleTimeoutExceeded;
    return ended;
  }

  const left = timeout - earlier - ranNow;
  const running = result(earlier, left, hasRun && left <= 0 ? Reason.TimeoutExceeded : false);
  if (runStart !== undefined) running.runningSince = runStart;
  if (idle !== undefined) running.idle = idle;
  // This sync records the run's start: its status has none yet (or a suspended one's ended run).
  running.runStarted = runStart !== undefined && carried === undefined;
  // A resumed run's pod became Ready in this sync: how long the resume took, from when that pod
  // began to serve (its creation, or a warm pod's claim).
  const since = live === undefined ? Number.NaN : servingSince(live);
  if (runStart !== undefined && running.runStarted && everSuspended && !Number.isNaN(since)) {
    running.lastResumeSeconds = Math.max(0, (Date.parse(runStart) - since) / 1000);
    running.resumedReady = true;
  }
  return running;
}

/**
 * Idle time of a running Sandbox: from its last recorded activity or from when its run began,
 * whichever is later (activity before a suspension does not make a resumed Sandbox idle).
 */
function idleOf(sandbox: Sandbox, runStart: string | undefined, now: Date): IdleState | undefined {
  const timeout = sandbox.spec.lifecycle?.idleTimeout;
  if (timeout === undefined || runStart === undefined) return undefined;
  const value = sandbox.metadata.annotations?.[ANNOTATION_LAST_ACTIVITY];
  const activity = value === undefined ? Number.NaN : parseRfc3339(value);
  const from = Math.max(Date.parse(runStart), Number.isNaN(activity) ? 0 : activity);
  const deadline = from + timeout * 1000;
  return {
    deadline: formatTime(new Date(deadline)),
    idle: deadline <= now.getTime(),
    ...(value !== undefined && Number.isNaN(activity) ? { invalidActivity: value } : {}),
  };
}

// RFC 3339: a date, `T`, a time with optional fraction, and `Z` or an offset.
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of an RFC 3339 time; NaN for anything else. */
export function parseRfc3339(value: string): number {
  return RFC_3339.test(value) ? Date.parse(value.toUpperCase()) : Number.NaN;
}
