/**
 * The server process at its edges: a request whose body stops arriving is cut off at the hook
 * deadline, and SIGTERM during a burst stops new connections, finishes every request already
 * accepted, and exits 0.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest, Agent } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixtureCases } from "./support/fixtures.js";
import { freePort } from "./support/ports.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");

type Outcome = { status: number } | { error: string };

/** A request whose body is still arriving when `release` resolves: in flight across the signal. */
function slowPost(port: number, body: string, release: Promise<unknown>): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path: "/sandbox/sync", method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => { resolve({ status: res.statusCode ?? 0 }); });
      },
    );
    req.on("error", (error) => { resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }); });
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    void release.then(() => req.end(body.slice(half)));
  });
}

function post(port: number, body: string, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path: "/sandbox/sync", method: "POST", agent, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => { resolve({ status: res.statusCode ?? 0 }); });
        res.on("error", (error) => { resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }); });
      },
    );
    req.on("error", (error) => { resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }); });
    req.end(body);
  });
}

async function waitReady(port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      httpRequest({ host: "127.0.0.1", port, path: "/readyz" }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      })
        .on("error", () => { resolve(false); })
        .end();
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the server did not become ready");
}

/** Starts src/server/main.ts on a free port with `env`; resolves once it is ready. */
async function startServer(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src", "server", "main.ts")], {
    cwd: REPO,
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => { resolve(code); }));
  await waitReady(port);
  return { port, child, exited, output: () => `${stdout}\n${stderr}` };
}

describe("request deadline", function () {
  this.timeout(30_000);

  it("main › a body still trickling in at HOOK_DEADLINE_MS › 408 and the connection closed; other requests answered", async () => {
    const server = await startServer({ HOOK_DEADLINE_MS: "1000", LOG_LEVEL: "warn" });
    try {
      const fixture = fixtureCases("sandbox").find((c) => c.name === "standard-minimal");
      assert.ok(fixture !== undefined);
      const body = JSON.stringify(fixture.request());
      const started = Date.now();
      // Half the body, then nothing: the rest never comes.
      const stalled = slowPost(server.port, body, new Promise(() => undefined));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const agent = new Agent({ keepAlive: false });
      assert.deepEqual(await post(server.port, body, agent), { status: 200 }, "a whole request beside the stalled one");
      const outcome = await stalled;
      const waited = Date.now() - started;
      assert.deepEqual(outcome, { status: 408 }, server.output());
      // The deadline, plus up to one pass of the server's once-a-second check.
      assert.ok(waited >= 1000 && waited < 4000, `answered after ${waited} ms`);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });
});

describe("shutdown", function () {
  this.timeout(60_000);

  it("main › SIGTERM during a burst › every accepted request is answered, and the process exits 0", async () => {
    const { port, child, exited, output } = await startServer({ LOG_LEVEL: "info" });

    const fixture = fixtureCases("sandbox").find((c) => c.name === "egress-twelve-rules");
    assert.ok(fixture !== undefined);
    const body = JSON.stringify(fixture.request());
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    let signalled = (): void => undefined;
    const afterSignal = new Promise<void>((resolve) => (signalled = resolve));
    const slow = slowPost(port, body, afterSignal.then(() => new Promise((resolve) => setTimeout(resolve, 300))));
    const burst = Array.from({ length: 200 }, () => post(port, body, agent));
    // Signal while the burst is in flight and the slow request is half sent.
    await new Promise((resolve) => setTimeout(resolve, 30));
    child.kill("SIGTERM");
    signalled();
    const outcomes = await Promise.all(burst);
    agent.destroy();
    assert.deepEqual(await slow, { status: 200 }, "a request half received at SIGTERM was not finished");

    assert.equal(await exited, 0, output());

    // The server's own count: every hook call it received, it answered.
    const stopped = output()
      .split("\n")
      .filter((line) => line.includes("Stopped hook server"))
      .map((line) => JSON.parse(line) as { answered: number; cutOff: number })[0];
    assert.ok(stopped !== undefined, output());
    assert.equal(stopped.cutOff, 0);
    // The client's: each request either got its whole answer, or never reached the server — a
    // refused connection, or a reset of an idle keep-alive connection the server was closing.
    const answered = outcomes.filter((o) => "status" in o);
    assert.equal(answered.length + 1, stopped.answered, JSON.stringify(outcomes.filter((o) => "error" in o).slice(0, 3)));
    assert.ok(answered.length > 0, "no request was answered before the server stopped");
    assert.ok(answered.every((o) => o.status === 200), JSON.stringify(answered.slice(0, 3)));
    console.log(`      (${answered.length} answered, ${outcomes.length - answered.length} never reached the server)`);
  });
});
