/**
 * The README's install guide, step 4 and on, as a new user types it, against the real
 * Metacontroller: the examples apply, each Sandbox reaches Running, and `kubectl get` and
 * `kubectl describe` show what the README shows.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../support/manifests.js";
import { GROUP_VERSION, condition, eventually, kubectl, list, poolReady, readmeCommands, running, type Sandbox } from "./support/scenario.js";

/** A `kubectl get` table as rows of cells, without the AGE column. */
function table(text: string): string[][] {
  const [header = "", ...rows] = text.trimEnd().split("\n");
  // Columns start where the header's words start.
  const starts = [...header.matchAll(/\S+/g)].map((m) => m.index);
  const cells = (line: string) => starts.map((start, i) => line.slice(start, starts[i + 1]).trim());
  const age = cells(header).indexOf("AGE");
  return [header, ...rows].map((line) => cells(line).filter((_, i) => i !== age));
}

/** The README's console block after `marker`, as the tables `kubectl get` printed. */
function readmeTables(marker: string): string[][][] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  // The block sits in a list item: every line is indented alike.
  const block = /```console\n\s*\$ [^\n]*\n([\s\S]*?)\n\s*```/.exec(readme.slice(readme.indexOf(marker)))?.[1] ?? "";
  return block.split(/\n\s*\n/).filter((part) => part.trim() !== "").map(table);
}

describe("the README's walk-through", function () {
  this.timeout(120_000);

  it("walk-through › a first Sandbox, a warm pool and a Sandbox that takes from it › each Running, as `kubectl get` shows in the README", async () => {
    const commands = readmeCommands("4. **A first Sandbox**");
    assert.ok(commands.length >= 3, `README step 4 commands: ${JSON.stringify(commands)}`);
    for (const args of commands) {
      await kubectl(...args);
      // What the user sees next is the state once each command has had its effect.
      if (args.includes("examples/sandbox-standard.yaml")) await running("team-a", "demo");
    }
    await running("team-a", "demo");
    const quick = await running("team-a", "quick");
    assert.equal(condition(quick, "WarmPodClaimed")?.status, "True", JSON.stringify(quick.status));
    await poolReady("team-a", "python", 2);

    const shown = readmeTables("4. **A first Sandbox**");
    // The README's own namespace only: other scenarios of the tier may have run first.
    const seen = (await kubectl("get", "sandboxes,warmpools", "-A"))
      .split(/\n\s*\n/)
      .filter((part) => part.trim() !== "")
      .map(table)
      .map(([header = [], ...rows]) => [header, ...rows.filter((row) => row[0] === "team-a")]);
    assert.deepEqual(seen, shown);
  });

  it("walk-through › kubectl describe sandbox demo › shows the status the README shows", async () => {
    const described = await kubectl("describe", "sandbox", "demo", "-n", "team-a");
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const block = /```console\n\s*Status:\n([\s\S]*?)\n\s*```/.exec(readme)?.[1] ?? "";
    assert.ok(block !== "", "README.md has no `Status:` console block");
    // Every line the README shows is there, times aside (they are the moment of the run).
    const normalise = (line: string) => line.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, "<time>").replace(/\s+/g, " ").trim();
    const seen = new Set(described.split("\n").map(normalise));
    for (const line of block.split("\n").map(normalise).filter((l) => l !== "")) {
      assert.ok(seen.has(line), `"${line}" is not in kubectl describe's output:\n${described}`);
    }
  });

  it("walk-through › every example › applies as it is, and every Sandbox reaches Running", async () => {
    await kubectl("apply", "-f", "examples/");
    const sandboxes = await list<Sandbox>(`/apis/${GROUP_VERSION}/sandboxes`);
    assert.ok(sandboxes.length >= 6, sandboxes.map((s) => s.metadata.name).join(", "));
    for (const sandbox of sandboxes) {
      const done = await running(sandbox.metadata.namespace ?? "", sandbox.metadata.name);
      assert.equal(condition(done, "Ready")?.reason, "PodRunning");
    }
    await eventually("no Sandbox Failed", async () => ((await list<Sandbox>(`/apis/${GROUP_VERSION}/sandboxes`)).every((s) => s.status?.phase === "Running") ? true : undefined));
  });
});
