/** An in-process hook server for tests: defaults, a fixed clock, silent logs, no claiming. */
import type { RequestListener } from "node:http";
import request from "supertest";
import { createApp } from "../../src/server/app.js";
import { disabledClaimer, type WarmPodClaimer, type WarmPodRetirer } from "../../src/warm-pool/claimer.js";
import { loadConfig } from "../../src/server/config.js";
import { createLogger } from "../../src/server/log.js";
import { createMetrics, type Metrics } from "../../src/server/metrics.js";
import { RequestValidators } from "../../src/server/validation.js";
import type { FixtureCase } from "./fixtures.js";

/** The moment every fixture is answered at, unless its fixture.json says otherwise. */
export const FIXTURE_NOW = "2026-11-29T12:00:00Z";

// Compiling the request schemas takes a moment; every test app can share one set.
let validators: RequestValidators | undefined;

export interface TestAppOptions {
  env?: Record<string, string>;
  now?: string;
  claimer?: WarmPodClaimer;
  /** @default disabledRetirer, as a server without a cluster */
  retirer?: WarmPodRetirer;
  metrics?: Metrics;
  bodyLimitBytes?: number;
  /** The bearer token the server requires. @default none */
  token?: string;
}

export function testApp(options: TestAppOptions = {}): RequestListener {
  validators ??= new RequestValidators();
  const config = loadConfig(options.env ?? {});
  if (options.bodyLimitBytes !== undefined) config.bodyLimitBytes = options.bodyLimitBytes;
  const now = new Date(options.now ?? FIXTURE_NOW);
  return createApp({
    config,
    validators,
    claimer: options.claimer ?? disabledClaimer,
    ...(options.retirer !== undefined ? { retirer: options.retirer } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    clock: () => new Date(now),
    logger: createLogger("silent"),
    metrics: options.metrics ?? createMetrics({ processMetrics: false }),
  });
}

/**
 * The retirer of every fixture: each pod it is asked about was still available and is now
 * retiring, so the goldens show retire before drop — a pool keeps the pods it gives up until it
 * observes them retiring. test/warmpool-sync.test.ts asks other answers.
 */
export const retiringEveryPod: WarmPodRetirer = { retire: () => Promise.resolve("retired") };

/** A hook's answer to a fixture, over HTTP at its parent's route, with the fixture's hook, environment and clock. */
export interface FixtureAnswer {
  status: number;
  text: string;
  body: {
    children?: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }[];
    status?: Record<string, unknown>;
  };
}

export async function answerFixture(fixture: FixtureCase, body: Record<string, unknown> = fixture.request()): Promise<FixtureAnswer> {
  const app = testApp({
    ...(fixture.options.env !== undefined ? { env: fixture.options.env } : {}),
    ...(fixture.options.now !== undefined ? { now: fixture.options.now } : {}),
    retirer: retiringEveryPod,
  });
  const response = await request(app)
    .post(`/${fixture.parent}/${fixture.options.hook ?? "sync"}`)
    .set("content-type", "application/json")
    .send(JSON.stringify(body));
  return { status: response.status, text: response.text, body: response.body as FixtureAnswer["body"] };
}
