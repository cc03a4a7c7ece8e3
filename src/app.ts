/**
 * The hook server's request handling: the hooks by name, the routes, validation and metrics.
 * Built by a factory that does not listen, so tests drive it in-process.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { sandboxCustomize } from "../hooks/sandbox-customize.js";
import { sandboxFinalize } from "../hooks/sandbox-finalize.js";
import { sandboxSync } from "../hooks/sandbox-sync.js";
import { warmPoolCustomize } from "../hooks/warmpool-customize.js";
import { warmPoolFinalize } from "../hooks/warmpool-finalize.js";
import { warmPoolSync } from "../hooks/warmpool-sync.js";
import type { Sandbox, WarmPool } from "./api-types.js";
import { disabledRetirer, noRecycling, type WarmPodClaimer, type WarmPodRecycler, type WarmPodRetirer } from "./claimer.js";
import type { Config } from "./config.js";
import { HttpError } from "./errors.js";
import { bearerCheck, hookEndpoint, routePath, sendError, sendJson, unauthorized } from "./hook-http.js";
import type { Logger } from "./log.js";
import type { CustomizeRequest, HookRequest } from "./metacontroller.js";
import { exposition, type Metrics } from "./metrics.js";
import type { RequestValidators } from "./validation.js";

export interface AppDeps {
  config: Config;
  validators: RequestValidators;
  claimer: WarmPodClaimer;
  /** How warm pools give pods up. @default disabledRetirer (pools never give a pod up) */
  retirer?: WarmPodRetirer;
  /** What becomes of a deleted Sandbox's claimed warm pod. @default noRecycling (deleted) */
  recycler?: WarmPodRecycler;
  clock: () => Date;
  logger: Logger;
  metrics: Metrics;
  /** False while starting or draining: `/readyz` fails so no new traffic is sent. */
  isReady?: () => boolean;
  /** When set, every hook call must carry `Authorization: Bearer <token>`. @default none */
  token?: string;
}

type Hook = (body: unknown, now: Date) => unknown;

/** Every hook of the server by its route name (`sandbox/sync`, …). */
export const HOOK_NAMES = [
  "sandbox/customize",
  "sandbox/sync",
  "sandbox/finalize",
  "warmpool/customize",
  "warmpool/sync",
  "warmpool/finalize",
] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/**
 * Validates a parsed request body and answers it, as the HTTP route does: the one code path the
 * server and the `render` command share. Throws an {@link HttpError} (400) for a bad request.
 */
export function hookRunner(deps: AppDeps): (name: HookName, body: unknown) => Promise<unknown> {
  const table = hooks(deps);
  return async (name, body) => {
    const validated = deps.validators.validate(name, body);
    if (!validated.ok) throw new HttpError(400, `Invalid ${name} request`, validated.details);
    return await table[name](validated.value, deps.clock());
  };
}

function hooks(deps: AppDeps): Record<HookName, Hook> {
  const { config, claimer, validators } = deps;
  const retirer = deps.retirer ?? disabledRetirer;
  const allocation = {
    podStarted: (runtime: string, securityLevel: string, warmRequested: boolean) => {
      deps.metrics.allocationAttempts.inc({ runtime, security_level: securityLevel, requested: warmRequested ? "requested" : "not_requested" });
    },
  };
  return {
    "sandbox/customize": (body) => sandboxCustomize(body as CustomizeRequest<Sandbox>, { config }),
    "sandbox/sync": (body, now) => {
      const request = body as HookRequest<Sandbox>;
      const { related, problems } = validators.checkRelated(request.related);
      return sandboxSync({ ...request, related }, { config, claimer, now, relatedProblems: problems, metrics: allocation });
    },
    "sandbox/finalize": (body, now) =>
      sandboxFinalize(body as HookRequest<Sandbox>, {
        now,
        recycler: deps.recycler ?? noRecycling,
        onRecycleDecision: (decision) => {
          deps.metrics.recycleDecisions.inc({ decision: decision.recycle ? "recycle" : "delete", reason: decision.reason });
        },
      }),
    "warmpool/customize": (body) => warmPoolCustomize(body as CustomizeRequest<WarmPool>, { config }),
    "warmpool/sync": async (body, now) => {
      const request = body as HookRequest<WarmPool>;
      const { related, problems } = validators.checkRelated(request.related);
      const response = await warmPoolSync({ ...request, related }, { config, retirer, now, relatedProblems: problems });
      const { status } = response;
      const pool = { namespace: request.parent.metadata.namespace ?? "", pool: request.parent.metadata.name };
      deps.metrics.poolPods.set({ namespace: pool.namespace, pool: pool.pool, state: "available" }, status.availablePods ?? 0);
      deps.metrics.poolPods.set({ namespace: pool.namespace, pool: pool.pool, state: "pending" }, status.pendingPods ?? 0);
      deps.metrics.poolPods.set({ namespace: pool.namespace, pool: pool.pool, state: "assigned" }, status.assignedPods ?? 0);
      return response;
    },
    "warmpool/finalize": async (body, now) => {
      const request = body as HookRequest<WarmPool>;
      const response = await warmPoolFinalize(request, { retirer, now });
      if (response.finalized === true) {
        for (const state of ["available", "pending", "assigned"]) {
          deps.metrics.poolPods.remove({ namespace: request.parent.metadata.namespace ?? "", pool: request.parent.metadata.name, state });
        }
      }
      return response;
    },
  };
}

/**
 * The hook server as a `node:http` request listener: the hook endpoints (src/hook-http.ts, the
 * hot path), then health, readiness and metrics; anything else is a 404 with a JSON error. It
 * does not listen, so tests drive it in-process (supertest) and main.ts serves it over HTTP or
 * HTTPS.
 */
export function createApp(deps: AppDeps): RequestListener {
  const hookCall = hookEndpoint({
    names: HOOK_NAMES,
    run: hookRunner(deps),
    bodyLimitBytes: deps.config.bodyLimitBytes,
    deadlineMs: deps.config.hookDeadlineMs,
    ...(deps.token !== undefined ? { token: deps.token } : {}),
    metrics: deps.metrics,
    logger: deps.logger,
  });
  const authorized = bearerCheck(deps.token);
  const operational: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void> | void> = {
    "/healthz": (_req, res) => {
      sendJson(res, 200, { status: "ok" });
    },
    "/readyz": (_req, res) => {
      const ready = deps.isReady?.() ?? true;
      sendJson(res, ready ? 200 : 503, { status: ready ? "ok" : "not ready" });
    },
    "/metrics": async (req, res) => {
      if (deps.config.auth.protectMetrics && !authorized(req.headers.authorization)) throw unauthorized(res);
      const text = await exposition(deps.metrics);
      res.writeHead(200, { "content-type": deps.metrics.registry.contentType, "content-length": Buffer.byteLength(text) });
      res.end(text);
    },
  };
  return (req, res) => {
    if (hookCall(req, res)) return;
    const path = routePath(req.url);
    const route = req.method === "GET" || req.method === "HEAD" ? operational[path] : undefined;
    // Only the hook calls have a body; anything sent with another request is read off and dropped.
    req.resume();
    void (async () => {
      if (route === undefined) throw new HttpError(404, `No route for ${req.method ?? "?"} ${path}`);
      await route(req, res);
    })().catch((error: unknown) => {
      sendError(req, res, error, deps.logger);
    });
  };
}
