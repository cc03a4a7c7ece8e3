/**
 * The HTTP edge: bad input gets a 4xx with a JSON body that names the problem, never a 5xx, and
 * the server keeps answering afterwards.
 */
import assert from "node:assert/strict";
import request from "supertest";
import type { RequestListener } from "node:http";
import { createMetrics } from "../src/server/metrics.js";
import { testApp } from "./support/app.js";
import { fixtureCases } from "./support/fixtures.js";

const valid = fixtureCases("sandbox").find((c) => c.name === "standard-minimal");
if (valid === undefined) throw new Error("fixture standard-minimal is missing");

interface ErrorBody {
  error: string;
  details: string[];
}

function post(app: RequestListener, path: string, body: string, type = "application/json") {
  return request(app).post(path).set("content-type", type).send(body);
}

function withSpec(spec: Record<string, unknown>): string {
  const body = valid!.request();
  const parent = body.parent as { spec: Record<string, unknown> };
  parent.spec = { ...parent.spec, ...spec };
  return JSON.stringify(body);
}

describe("hook server", () => {
  const app = testApp({ bodyLimitBytes: 64 * 1024 });

  const badRequests: { name: string; status: number; send: () => request.Test; mentions: RegExp }[] = [
    { name: "malformed JSON", status: 400, send: () => post(app, "/sandbox/sync", '{"parent": '), mentions: /not valid JSON/ },
    { name: "an empty body", status: 400, send: () => post(app, "/sandbox/sync", ""), mentions: /empty/ },
    {
      name: "a wrong content type",
      status: 415,
      send: () => post(app, "/sandbox/sync", JSON.stringify(valid.request()), "text/plain"),
      mentions: /application\/json/,
    },
    {
      name: "a JSON array",
      status: 400,
      send: () => post(app, "/sandbox/sync", "[]"),
      mentions: /Invalid sandbox\/sync request/,
    },
    {
      name: "a missing parent",
      status: 400,
      send: () => post(app, "/sandbox/sync", JSON.stringify({ children: {} })),
      mentions: /parent: is required/,
    },
    {
      name: "a parent of another kind",
      status: 400,
      send: () => {
        const body = valid.request();
        (body.parent as { kind: string }).kind = "WarmPool";
        return post(app, "/sandbox/sync", JSON.stringify(body));
      },
      mentions: /parent\.kind: must be "Sandbox"/,
    },
    {
      name: "a wrong type in the spec",
      status: 400,
      send: () => post(app, "/sandbox/sync", withSpec({ timeout: "300" })),
      mentions: /parent\.spec\.timeout: must be integer/,
    },
    {
      name: "a wrong enum value in the spec",
      status: 400,
      send: () => post(app, "/sandbox/sync", withSpec({ securityLevel: "none" })),
      mentions: /parent\.spec\.securityLevel: must be one of "standard", "high", "custom"/,
    },
    {
      name: "a negative quantity",
      status: 400,
      send: () => post(app, "/sandbox/sync", withSpec({ resources: { memory: "-1Gi" } })),
      mentions: /parent\.spec\.resources\.memory: must be a Kubernetes quantity/,
    },
    {
      name: "an egress rule with neither domain nor cidr",
      status: 400,
      send: () => post(app, "/sandbox/sync", withSpec({ networkAccess: { egress: [{ ports: [{ port: 443 }] }] } })),
      mentions: /egress\.0: needs at least one of domain, cidr/,
    },
    {
      name: "runAsUser 0",
      status: 400,
      send: () => post(app, "/sandbox/sync", withSpec({ securityContext: { runAsUser: 0 } })),
      mentions: /parent\.spec\.securityContext\.runAsUser: must be >= 1/,
    },
    {
      name: "children given as a list",
      status: 400,
      send: () => post(app, "/sandbox/sync", JSON.stringify({ ...valid.request(), children: [] })),
      mentions: /children: must be object/,
    },
    {
      name: "a child without metadata",
      status: 400,
      send: () =>
        post(app, "/sandbox/sync", JSON.stringify({ ...valid.request(), children: { "Pod.v1": { x: { apiVersion: "v1", kind: "Pod" } } } })),
      mentions: /children\.Pod\.v1\.x\.metadata: is required/,
    },
    {
      name: "a __proto__ key",
      status: 400,
      send: () =>
        post(app, "/sandbox/sync", JSON.stringify(valid.request()).replace('"children":{', '"children":{"__proto__":{"polluted":true},')),
      mentions: /not valid JSON/,
    },
    {
      name: "a constructor.prototype key",
      status: 400,
      send: () =>
        post(
          app,
          "/sandbox/sync",
          JSON.stringify(valid.request()).replace('"children":{', '"children":{"constructor":{"prototype":{"polluted":true}},'),
        ),
      mentions: /not valid JSON/,
    },
    {
      name: "a __proto__ key spelled with \\u escapes",
      status: 400,
      send: () =>
        post(app, "/sandbox/sync", JSON.stringify(valid.request()).replace('"children":{', '"children":{"\\u005f_pro\\u0074o__":{"polluted":true},')),
      mentions: /not valid JSON/,
    },
    {
      name: "a constructor.prototype key spelled with \\u escapes",
      status: 400,
      send: () =>
        post(
          app,
          "/sandbox/sync",
          JSON.stringify(valid.request()).replace('"children":{', '"children":{"c\\u006fnstructor":{"pr\\u006ftotype":{"polluted":true}},'),
        ),
      mentions: /not valid JSON/,
    },
    {
      name: "a body over the limit",
      status: 413,
      send: () => post(app, "/sandbox/sync", JSON.stringify({ ...valid.request(), padding: "x".repeat(70 * 1024) })),
      mentions: /too large/,
    },
    {
      name: "an unknown hook",
      status: 404,
      send: () => post(app, "/sandbox/delete", JSON.stringify(valid.request())),
      mentions: /No route/,
    },
  ];

  for (const bad of badRequests) {
    it(`hook server › ${bad.name} › ${bad.status} with a JSON error naming the problem`, async () => {
      const response = await bad.send();
      assert.equal(response.status, bad.status, response.text);
      assert.match(String(response.headers["content-type"]), /application\/json/);
      const body = response.body as ErrorBody;
      assert.equal(typeof body.error, "string");
      assert.ok(Array.isArray(body.details));
      assert.match(`${body.error} ${body.details.join(" ")}`, bad.mentions);
    });
  }

  it("hook server › after every bad request › still answers a good one", async () => {
    for (const bad of badRequests) await bad.send();
    const response = await post(app, "/sandbox/sync", JSON.stringify(valid.request()));
    assert.equal(response.status, 200, response.text);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("hook server › health endpoints › answer without a cluster", async () => {
    assert.equal((await request(app).get("/healthz")).status, 200);
    assert.equal((await request(app).get("/readyz")).status, 200);
    assert.equal((await request(app).head("/healthz")).status, 200);
    const posted = await request(app).post("/healthz").set("content-type", "application/json").send("{}");
    assert.equal(posted.status, 404);
    assert.match((posted.body as { error: string }).error, /No route for POST \/healthz/);
  });

  it("hook server › metrics › count requests by hook and outcome", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const counted = testApp({ metrics });
    await post(counted, "/sandbox/sync", JSON.stringify(valid.request()));
    await post(counted, "/sandbox/sync", "{");
    const text = (await request(counted).get("/metrics")).text;
    assert.match(text, /llmsafespace_hook_requests_total\{hook="sandbox\/sync",outcome="ok"\} 1/);
    assert.match(text, /llmsafespace_hook_requests_total\{hook="sandbox\/sync",outcome="invalid"\} 1/);
    assert.match(text, /llmsafespace_hook_request_duration_seconds_count\{hook="sandbox\/sync",outcome="ok"\} 1/);
  });

  it("hook server › metrics › report each pool's pods by state after its sync", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const counted = testApp({ metrics });
    const fixture = fixtureCases("warmpool").find((c) => c.name === "pending-pods-counted");
    assert.ok(fixture !== undefined);
    const body = fixture.request() as { parent: { metadata: { name: string; namespace: string } } };
    assert.equal((await post(counted, "/warmpool/sync", JSON.stringify(body))).status, 200);
    const text = (await request(counted).get("/metrics")).text;
    const { name, namespace } = body.parent.metadata;
    assert.match(text, new RegExp(`llmsafespace_warm_pool_pods\\{namespace="${namespace}",pool="${name}",state="available"\\} 1`));
    assert.match(text, new RegExp(`llmsafespace_warm_pool_pods\\{namespace="${namespace}",pool="${name}",state="pending"\\} 2`));
  });

  it("hook server › a hook that throws › 500 with a JSON error, never a partial answer", async () => {
    const failing = testApp({
      claimer: { claim: () => Promise.reject(new Error("boom")), release: () => Promise.resolve("error") },
    });
    const body = valid.request();
    (body.parent as { metadata: { annotations?: Record<string, string> } }).metadata.annotations = {
      "llmsafespace.dev/use-warm-pod": "true",
    };
    const response = await post(failing, "/sandbox/sync", JSON.stringify(body));
    assert.equal(response.status, 500);
    assert.equal((response.body as { children?: unknown }).children, undefined);
    assert.match((response.body as ErrorBody).error, /retry/);
  });

  describe("with a bearer token", () => {
    const token = "0123456789abcdef0123456789abcdef";
    const secured = testApp({ token });
    const sync = (authorization?: string) => {
      const call = request(secured).post("/sandbox/sync").set("content-type", "application/json");
      return (authorization === undefined ? call : call.set("authorization", authorization)).send(JSON.stringify(valid.request()));
    };

    it("hook server › a hook call without a token › 401 with a JSON error and a Bearer challenge", async () => {
      const response = await sync();
      assert.equal(response.status, 401);
      assert.match(String(response.headers["www-authenticate"]), /^Bearer /);
      assert.match((response.body as ErrorBody).error, /bearer token/);
    });

    it("hook server › a wrong token, or the right one in another scheme › 401", async () => {
      assert.equal((await sync(`Bearer ${token.slice(0, -1)}x`)).status, 401);
      assert.equal((await sync(`Bearer ${token}extra`)).status, 401);
      assert.equal((await sync(`Basic ${token}`)).status, 401);
    });

    it("hook server › the right token › answers", async () => {
      assert.equal((await sync(`Bearer ${token}`)).status, 200);
    });

    it("hook server › health and metrics › stay open unless metrics are protected", async () => {
      assert.equal((await request(secured).get("/healthz")).status, 200);
      assert.equal((await request(secured).get("/readyz")).status, 200);
      assert.equal((await request(secured).get("/metrics")).status, 200);
      const closed = testApp({ token, env: { HOOK_TOKEN_FILE: "/unused", METRICS_REQUIRE_TOKEN: "true" } });
      assert.equal((await request(closed).get("/metrics")).status, 401);
      assert.equal((await request(closed).get("/metrics").set("authorization", `Bearer ${token}`)).status, 200);
    });
  });
});
