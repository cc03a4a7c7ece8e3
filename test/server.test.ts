/**
 * The hook endpoints of the express app (src/server/app.ts), beyond the edge that test/http.test.ts
 * covers: a pool at the size cap answered byte for byte as the hook answers, bodies without a
 * length, the deadline, the routes, and compressed bodies refused.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import request from "supertest";
import { hookRunner, type AppDeps } from "../src/server/app.js";
import { disabledClaimer, disabledRetirer } from "../src/warm-pool/claimer.js";
import { loadConfig } from "../src/server/config.js";
import { createLogger } from "../src/server/log.js";
import { createMetrics } from "../src/server/metrics.js";
import { RequestValidators } from "../src/server/validation.js";
import { FIXTURE_NOW, testApp } from "./support/app.js";
import { fixtureCases } from "./support/fixtures.js";
import { warmPoolRequest } from "./support/pools.js";
import { WARM_POOL_SIZE_CAP } from "../src/warm-pool/warm-pool.js";

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

  it("server › a pool at the size cap, 1,000 pods › the hook's own answer, byte for byte", async function () {
    this.timeout(30_000);
    const body = JSON.stringify(warmPoolRequest(WARM_POOL_SIZE_CAP, Date.parse(FIXTURE_NOW)));
    const response = await post(app, "/warmpool/sync", body);
    assert.equal(response.status, 200, response.text.slice(0, 500));
    assert.match(String(response.headers["content-type"]), /^application\/json; charset=utf-8$/);
    assert.equal(response.text, await direct("warmpool/sync", JSON.parse(body)));
    assert.equal((response.body as { children: unknown[] }).children.length, WARM_POOL_SIZE_CAP + 2);
  });

  it("server › a small answer › written whole, with its length", async () => {
    const body = JSON.stringify(sandbox.request());
    const response = await post(app, "/sandbox/sync", body);
    assert.equal(response.status, 200, response.text);
    assert.equal(Number(response.headers["content-length"]), Buffer.byteLength(response.text));
    assert.equal(response.text, await direct("sandbox/sync", JSON.parse(body)));
  });

  /** Posts a body as a stream: with no Content-Length it is sent chunked. */
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

  it("server › a body without a Content-Length (chunked) › the same answer", async () => {
    const body = JSON.stringify(warmPoolRequest(100, Date.parse(FIXTURE_NOW)));
    const answered = await postChunked("/warmpool/sync", body);
    assert.equal(answered.status, 200, answered.text);
    assert.equal(answered.text, await direct("warmpool/sync", JSON.parse(body)));
  });

  it("server › a chunked body with a __proto__ key at any depth, or cut short › 400", async () => {
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

  it("server › a compressed body › 415 naming the encoding, never inflated", async () => {
    const response = await request(app)
      .post("/sandbox/sync")
      .set("content-type", "application/json")
      .set("content-encoding", "gzip")
      .send(gzipSync(JSON.stringify(sandbox.request())));
    assert.equal(response.status, 415);
    assert.match((response.body as { error: string }).error, /Content-Encoding gzip/);
  });

  it("server › the routes › any case, a trailing slash, a query; other methods 404", async () => {
    const body = JSON.stringify(sandbox.request());
    for (const path of ["/sandbox/sync/", "/Sandbox/Sync", "/sandbox/sync?x=1"]) {
      assert.equal((await post(app, path, body)).status, 200, path);
    }
    const get = await request(app).get("/sandbox/sync");
    assert.equal(get.status, 404);
    assert.match((get.body as { error: string }).error, /No route for GET/);
  });

  it("server › a hook that outlasts HOOK_DEADLINE_MS › 503 with Retry-After, as JSON", async () => {
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

  it("server › requests counted › by outcome", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const counted = testApp({ metrics });
    await post(counted, "/warmpool/sync", JSON.stringify(warmPoolRequest(50, Date.parse(FIXTURE_NOW))));
    await post(counted, "/warmpool/sync", "{");
    const text = (await request(counted).get("/metrics")).text;
    assert.match(text, /llmsafespace_hook_requests_total\{hook="warmpool\/sync",outcome="ok"\} 1/);
    assert.match(text, /llmsafespace_hook_requests_total\{hook="warmpool\/sync",outcome="invalid"\} 1/);
  });
});
