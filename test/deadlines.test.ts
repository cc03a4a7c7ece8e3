/** The hook deadline's one shared timer: fires once, never early, at most a tick late; idles away. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Deadlines } from "../src/server/deadlines.js";

describe("Deadlines", () => {
  it("deadlines › 100 ms › ticks every 10 ms; 8 s › every 100 ms; 5 ms › every 1 ms", () => {
    assert.equal(new Deadlines(100).tickMs, 10);
    assert.equal(new Deadlines(8000).tickMs, 100);
    assert.equal(new Deadlines(5).tickMs, 1);
  });

  it("deadlines › calls left waiting › each told once, no sooner than the deadline and within a tick or two of it", async () => {
    const deadlines = new Deadlines(100);
    const started = performance.now();
    const fired: number[] = [];
    for (let i = 0; i < 3; i++) {
      deadlines.start(() => fired.push(performance.now() - started));
      await sleep(15);
    }
    await sleep(250);
    assert.equal(fired.length, 3);
    fired.forEach((at, i) => {
      const after = at - 15 * i;
      // Timers may fire a millisecond early by performance.now(); a loaded machine makes them late.
      assert.ok(after >= 99 && after < 100 + 3 * deadlines.tickMs + 50, `deadline ${i} fired after ${after.toFixed(1)} ms`);
    });
  });

  it("deadlines › a call that finished › never told; the timer stops once nobody waits, and starts again", async () => {
    const deadlines = new Deadlines(50);
    let fired = 0;
    const first = deadlines.start(() => fired++);
    const second = deadlines.start(() => fired++);
    assert.ok(deadlines.ticking);
    first.cancel();
    await sleep(20);
    second.cancel();
    await sleep(100);
    assert.equal(fired, 0);
    assert.ok(!deadlines.ticking, "no timer left behind");
    // And it starts again for the next call.
    deadlines.start(() => fired++);
    await sleep(100);
    assert.equal(fired, 1);
  });
});
