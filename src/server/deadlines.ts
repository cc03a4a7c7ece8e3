/**
 * The per-request deadline of hook calls, kept by one timer for all of them.
 *
 * Almost every hook call finishes in the tick it arrived in, so a timer armed and cleared per call
 * is work thrown away, and under load it showed in the profile. Instead each call joins a set, a
 * single interval ticks while calls are waiting (undici keeps its request timeouts the same way),
 * and a call that is still waiting `ms` after it joined is told so on the next tick: between `ms`
 * and `ms + tickMs` after it started.
 */

export interface Deadline {
  /** The call finished: its deadline will not fire. */
  cancel(): void;
}

interface Waiting extends Deadline {
  /** The tick at or after which the deadline fires. */
  readonly due: number;
  readonly expired: () => void;
}

export class Deadlines {
  /** How late a deadline may fire: a tenth of it, at most 100 ms. */
  readonly tickMs: number;
  private readonly ticks: number;
  private readonly waiting = new Set<Waiting>();
  private timer: NodeJS.Timeout | undefined;
  private now = 0;

  constructor(readonly ms: number) {
    this.tickMs = Math.max(1, Math.min(100, Math.floor(ms / 10)));
    this.ticks = Math.ceil(ms / this.tickMs);
  }

  /** Whether the timer runs: while calls wait, and one tick after the last has left. */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /** Calls `expired` once, `ms` to `ms + tickMs` from now, unless cancelled first. */
  start(expired: () => void): Deadline {
    // A deadline that starts between two ticks counts from the earlier one, so one more tick.
    const entry: Waiting = { due: this.now + this.ticks + 1, expired, cancel: () => this.waiting.delete(entry) };
    this.waiting.add(entry);
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.tick();
      }, this.tickMs);
      // Waiting calls hold their connections open; the deadlines alone keep nobody alive.
      this.timer.unref();
    }
    return entry;
  }

  private tick(): void {
    this.now += 1;
    // The timer stops one tick after the last call left, not with it: under load the set empties
    // between calls, and restarting it each time would cost what this class saves.
    if (this.waiting.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    for (const entry of this.waiting) {
      if (entry.due > this.now) continue;
      this.waiting.delete(entry);
      entry.expired();
    }
  }
}
