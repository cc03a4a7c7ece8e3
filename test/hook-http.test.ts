/**
 * The hook endpoints on plain node:http (src/hook-http.ts): what they do beyond the edge that
 * test/http.test.ts covers — large bodies parsed as they arrive, large answers written in
 * slices (the same bytes), bodies held to a budget, the deadline, the routes, and compressed
 * bodies refused.
 */
import assert from "node:assert/strict";
import { createServer, type RequestListener } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import request from "supertest";
import { hookRunner, type AppDeps } from "../src/app.js";
import { disabledClaimer, disabledRetirer } from "../src/claimer.js";
import { loadConfig } from "../src/config.js";
import { ByteBudget, Deadlines, writeJson } from "../src/hook-http.js";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics.js";
import { RequestValidators } from "../src/validation.js";
import { FIXTURE_NOW, testApp } from "./support/app.js";
import { fixtureCases } from "./support/fixtures.js";
import { warmPoolRequest } from "./support/pools.js";

const sandbox = fixtureCases("sandbox").find((c) => c.name === "standard-minimal");
if (sandbox === undefined) throw new Error("fixture standard-minimal is missing");

/** What the hook itself answers, as JSON.stringify writes it: what the server must send, byte for byte. */
async function direct(name: "warmpool/sync" | "sandbox/sync", body: unknown): Promise<string> {
  const deps: AppDeps = {
    config: loadConfig({}),
    validators: new RequestValidators(),
    claimer: disabledClaimer,
    retirer: disabledRetirer,
    clock: () => new Date(FIXTURE_NOW),
    logger: createLogger("silent"),
    metrics: createMetrics({ processMetrics: false }),
  };
  return JSON.stringify(await hookRunner(deps)(name, body));
}

function post(app: ReturnType<typeof testApp>, path: string, body: string | Buffer, type = "application/json") {
  return request(app).post(path).set("content-type", type).send(body);
}

describe("hook endpoints", () => {
  const app = testApp();

  it("hook-http › a pool of 3,300 pods (a body parsed as it arrives, an answer written in slices) › the hook's own answer, byte for byte", async function () {
    this.timeout(30_000);
    const body = JSON.stringify(warmPoolRequest(3300, Date.parse(FIXTURE_NOW)));
    assert.ok(body.length > 8 << 20, `only ${body.length} bytes: not parsed as it arrives`);
    const response = await post(app, "/warmpool/sync", body);
    assert.equal(response.status, 200, response.text.slice(0, 500));
    assert.equal(response.headers["content-length"], undefined, "a sliced answer is chunked");
    assert.match(String(response.headers["content-type"]), /^application\/json; charset=utf-8$/);
    assert.equal(response.text, await direct("warmpool/sync", JSON.parse(body)));
    assert.equal((response.body as { children: unknown[] }).children.length, 3302);
  });

  it("hook-http › a small answer › written whole, with its length", async () => {
    const body = JSON.stringify(sandbox.request());
    const response = await post(app, "/sandbox/sync", body);
    assert.equal(response.status, 200, response.text);
    assert.equal(Number(response.headers["content-length"]), Buffer.byteLength(response.text));
    assert.equal(response.text, await direct("sandbox/sync", JSON.parse(body)));
  });

  /** Posts a body as a stream: with no Content-Length it is sent chunked, and parsed as it arrives. */
  function postChunked(path: string, body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const server = createServer(app).listen(0, () => {
        const address = server.address();
        if (address === null || typeof address === "string") throw new Error("no port");
        fetch(`http://127.0.0.1:${address.port}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: new Blob([body]).stream(),
          duplex: "half",
        })
          .then(async (response) => ({ status: response.status, text: await response.text() }))
          .then(resolve, reject)
          .finally(() => server.close());
      });
    });
  }

  it("hook-http › a body without a Content-Length (chunked, parsed as it arrives) › the same answer", async () => {
    const body = JSON.stringify(warmPoolRequest(100, Date.parse(FIXTURE_NOW)));
    const answered = await postChunked("/warmpool/sync", body);
    assert.equal(answered.status, 200, answered.text);
    assert.equal(answered.text, await direct("warmpool/sync", JSON.parse(body)));
  });

  it("hook-http › a body parsed as it arrives, with a __proto__ key, or cut short › 400, as a whole one", async () => {
    const text = JSON.stringify(warmPoolRequest(100, Date.parse(FIXTURE_NOW)));
    const poisoned = text.replace('"spec":{', '"spec":{"__proto__":{"polluted":true},');
    const inPod = text.replace('"securityContext":{', '"securityContext":{"__proto__":{"polluted":true},');
    for (const bad of [poisoned, inPod, text.slice(0, text.length - 10)]) {
      const answered = await postChunked("/warmpool/sync", bad);
      assert.equal(answered.status, 400, answered.text);
      assert.match((JSON.parse(answered.text) as { error: string }).error, /not valid JSON/);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  /** Serves `listener` on a loopback port for the length of `use`. */
  async function serving<T>(listener: RequestListener, use: (port: number) => Promise<T>): Promise<T> {
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      return await use((server.address() as AddressInfo).port);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("hook-http › a sliced answer holding toJSON and Dates › byte for byte what JSON.stringify gives", async () => {
    const keyed = { toJSON: (key: string) => `key=${key}` };
    const values = [
      { items: Array.from({ length: 100 }, (_, i) => i), meta: { toJSON: () => undefined } },
      { meta: keyed, items: Array.from({ length: 100 }, (_, i) => i) },
      { items: Array.from({ length: 100 }, () => keyed) },
      { at: new Date(0), items: Array.from({ length: 100 }, (_, i) => new Date(i * 1000)), gone: undefined, f: () => 1 },
    ];
    for (const value of values) {
      const text = await serving(
        (_req, res) => void writeJson(res, 200, value, 1000),
        async (port) => (await fetch(`http://127.0.0.1:${port}/`)).text(),
      );
      assert.equal(text, JSON.stringify(value));
    }
  });

  it("hook-http › a client that stops reading a sliced answer › cut off at the deadline, so its budget share goes to the next", async function () {
    this.timeout(30_000);
    const body = Buffer.from(JSON.stringify(warmPoolRequest(3300, Date.parse(FIXTURE_NOW))));
    // Room in the body budget for one such body at a time.
    const stalling = testApp({ env: { HOOK_DEADLINE_MS: "1000" }, bodyLimitBytes: 2 * body.length + 1000 });
    const head = `POST /warmpool/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    await serving(stalling, async (port) => {
      // The first client sends its body and then reads nothing more of its answer.
      const stalled = connect(port, "127.0.0.1", () => stalled.end(Buffer.concat([Buffer.from(head), body])));
      stalled.on("error", () => undefined);
      await new Promise<void>((resolve) =>
        stalled.once("data", () => {
          stalled.pause();
          resolve();
        }),
      );
      const started = Date.now();
      const response = await fetch(`http://127.0.0.1:${port}/warmpool/sync`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const text = await response.text();
      assert.equal(response.status, 200, text.slice(0, 300));
      assert.ok(Date.now() - started < 15_000, `answered after ${Date.now() - started} ms`);
      stalled.destroy();
    });
  });

  it("hook-http › a compressed body › 415 naming the encoding, never inflated", async () => {
    const response = await request(app)
      .post("/sandbox/sync")
      .set("content-type", "application/json")
      .set("content-encoding", "gzip")
      .send(gzipSync(JSON.stringify(sandbox.request())));
    assert.equal(response.status, 415);
    assert.match((response.body as { error: string }).error, /Content-Encoding gzip/);
  });

  it("hook-http › the routes › any case, a trailing slash, a query; other methods 404", async () => {
    const body = JSON.stringify(sandbox.request());
    for (const path of ["/sandbox/sync/", "/Sandbox/Sync", "/sandbox/sync?x=1"]) {
      assert.equal((await post(app, path, body)).status, 200, path);
    }
    const get = await request(app).get("/sandbox/sync");
    assert.equal(get.status, 404);
    assert.match((get.body as { error: string }).error, /No route for GET/);
  });

  it("hook-http › a hook that outlasts HOOK_DEADLINE_MS › 503 with Retry-After, as JSON", async () => {
    const slow = testApp({
      env: { HOOK_DEADLINE_MS: "100" },
      claimer: { claim: () => new Promise(() => undefined), release: () => Promise.resolve("error") },
    });
    const body = sandbox.request();
    (body.parent as { metadata: { annotations?: Record<string, string> } }).metadata.annotations = { "llmsafespace.dev/use-warm-pod": "true" };
    const response = await post(slow, "/sandbox/sync", JSON.stringify(body));
    assert.equal(response.status, 503);
    assert.equal(response.headers["retry-after"], "1");
    assert.match((response.body as { error: string }).error, /did not finish within 100 ms/);
  });

  it("hook-http › requests counted › by outcome", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const counted = testApp({ metrics });
    await post(counted, "/warmpool/sync", JSON.stringify(warmPoolRequest(50, Date.parse(FIXTURE_NOW))));
    await post(counted, "/warmpool/sync", "{");
    const text = (await request(counted).get("/metrics")).text;
    assert.match(text, /llmsafespace_hook_requests_total\{hook="warmpool\/sync",outcome="ok"\} 1/);
    assert.match(text, /llmsafespace_hook_requests_total\{hook="warmpool\/sync",outcome="invalid"\} 1/);
  });
});

describe("body budget", () => {
  it("budget › bodies that fit › admitted at once; a large one waits for room, in order", async () => {
    const budget = new ByteBudget(100);
    const a = budget.request(60);
    const b = budget.request(30);
    assert.equal(a.admitted, true);
    assert.equal(b.admitted, true);
    const c = budget.request(50);
    const d = budget.request(40);
    assert.notEqual(c.admitted, true);
    assert.notEqual(d.admitted, true, "a large body does not pass one that waits");
    const order: string[] = [];
    void (c.admitted as Promise<boolean>).then((ok) => order.push(`c ${String(ok)}`));
    void (d.admitted as Promise<boolean>).then((ok) => order.push(`d ${String(ok)}`));
    a.done();
    a.done();
    await Promise.resolve();
    assert.deepEqual(order, ["c true"]);
    assert.equal(budget.inUse, 80);
    b.done();
    c.done();
    await Promise.resolve();
    assert.deepEqual(order, ["c true", "d true"]);
    d.done();
    assert.equal(budget.inUse, 0);
  });

  it("budget › a small body while a large one waits › goes ahead if it fits", () => {
    const budget = new ByteBudget(6400);
    budget.request(6000);
    const large = budget.request(1000);
    assert.notEqual(large.admitted, true);
    assert.equal(budget.request(100).admitted, true, "100 bytes is under 1/64 of the budget");
    assert.notEqual(budget.request(300).admitted, true, "300 bytes waits its turn");
  });

  it("budget › a client that goes while waiting › gives up its place, and lets the next one in", async () => {
    const budget = new ByteBudget(100);
    const first = budget.request(100);
    const gone = budget.request(100);
    const next = budget.request(100);
    gone.done();
    assert.equal(await gone.admitted, false);
    first.done();
    assert.equal(await next.admitted, true);
    assert.equal(budget.inUse, 100);
    next.done();
    gone.done();
    assert.equal(budget.inUse, 0);
  });
});

describe("deadlines", () => {
  it("deadlines › calls that finish leave the list; the rest expire, oldest first", async () => {
    const deadlines = new Deadlines(20);
    const expired: string[] = [];
    const a = deadlines.add(() => expired.push("a"));
    const b = deadlines.add(() => expired.push("b"));
    deadlines.add(() => expired.push("c"));
    const d = deadlines.add(() => expired.push("d"));
    deadlines.remove(b);
    deadlines.remove(d);
    deadlines.remove(d);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(expired, ["a", "c"]);
    deadlines.remove(a);
    const e = deadlines.add(() => expired.push("e"));
    deadlines.remove(e);
    deadlines.add(() => expired.push("f"));
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(expired, ["a", "c", "f"]);
  });
});
