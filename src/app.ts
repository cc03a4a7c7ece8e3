/**
 * The express app: routes, body handling, validation, metrics and the one error handler.
 * Built by a factory that does not listen, so tests drive it in-process.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import express, { type NextFunction, type Request, type Response } from "express";
import secureJson from "secure-json-parse";
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
import type { Logger } from "./log.js";
import type { CustomizeRequest, HookRequest } from "./metacontroller.js";
import type { Metrics, Outcome } from "./metrics.js";
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
      deps.metrics.poolPods.set({ ...pool, state: "available" }, status.availablePods ?? 0);
      deps.metrics.poolPods.set({ ...pool, state: "pending" }, status.pendingPods ?? 0);
      deps.metrics.poolPods.set({ ...pool, state: "assigned" }, status.assignedPods ?? 0);
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

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", (_req, res) => {
    const ready = deps.isReady?.() ?? true;
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "not ready" });
  });
  app.get("/metrics", deps.config.auth.protectMetrics ? bearerAuth(deps.token) : (_req, _res, next) => { next(); }, async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  // Read every hook body as bytes whatever its type, so a wrong content type gets our own
  // answer, and parse it ourselves with prototype-poisoning checks.
  const readBody = express.raw({ type: () => true, limit: deps.config.bodyLimitBytes });
  const run = hookRunner(deps);
  const authenticate = bearerAuth(deps.token);
  for (const name of HOOK_NAMES) {
    app.post(`/${name}`, observe(deps, name), authenticate, readBody, async (req: Request, res: Response) => {
      res.json(await withDeadline(run(name, parseJson(req)), deps.config.hookDeadlineMs, name));
    });
  }

  app.use((req: Request) => {
    throw new HttpError(404, `No route for ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.logger));
  return app;
}

/**
 * A hook that outlasts its deadline gets a 503 (Metacontroller retries) instead of Metacontroller
 * timing out on us. The work itself goes on: a claim that lands late is found by the next sync.
 */
async function withDeadline<T>(work: Promise<T>, ms: number, hook: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new HttpError(503, `The ${hook} hook did not finish within ${ms} ms; retry`));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Metacontroller ≥ v4.16 sends the CompositeController's `authorization` as a header; without a
 * token anyone who can reach the port can drive the claimer. Compared in constant time (the
 * digests have one length whatever was sent), so timing tells nothing about the token.
 */
function bearerAuth(token: string | undefined) {
  const expected = token === undefined ? undefined : createHash("sha256").update(token).digest();
  return (req: Request, res: Response, next: NextFunction) => {
    if (expected === undefined) {
      next();
      return;
    }
    const header = req.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = createHash("sha256").update(match?.[1] ?? "").digest();
    if (match !== null && timingSafeEqual(given, expected)) {
      next();
      return;
    }
    res.set("WWW-Authenticate", 'Bearer realm="llmsafespace-hooks"');
    throw new HttpError(401, "Missing or wrong bearer token: set the CompositeController's webhook authorization to the hook server's token");
  };
}

function parseJson(req: Request): unknown {
  if (!req.is("application/json")) {
    throw new HttpError(415, `Content-Type must be application/json, got ${req.get("content-type") ?? "none"}`);
  }
  const raw: unknown = req.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new HttpError(400, "Request body is empty; expected a JSON object");
  try {
    return secureJson.parse(raw, null, { protoAction: "error", constructorAction: "error" });
  } catch (error) {
    throw new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Counts and times each hook request by how it ended. */
function observe(deps: AppDeps, hook: string) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const end = deps.metrics.hookDuration.startTimer({ hook });
    res.on("finish", () => {
      const outcome: Outcome = res.statusCode < 400 ? "ok" : res.statusCode < 500 ? "invalid" : "error";
      end({ outcome });
      deps.metrics.hookRequests.inc({ hook, outcome });
    });
    next();
  };
}

/**
 * The one error handler. Bad input → 4xx with `{error, details}`; anything else → 500, logged,
 * and Metacontroller retries. Never a 200 with half an answer.
 */
function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof HttpError && error.status >= 500) {
      logger.warn({ path: req.path, status: error.status, error: error.message }, "Answered a hook with a retryable error");
      res.set("Retry-After", "1").status(error.status).json({ error: error.message, details: [] });
      return;
    }
    const status = clientStatus(error);
    if (status !== undefined) {
      const details = error instanceof HttpError ? error.details : [];
      logger.debug({ path: req.path, status, error: (error as Error).message, details }, "Rejected request");
      res.status(status).json({ error: (error as Error).message, details });
      return;
    }
    logger.error({ path: req.path, err: error }, "Failed to answer request");
    res.set("Retry-After", "1").status(500).json({ error: "Internal error while answering the hook; Metacontroller will retry", details: [] });
  };
}

/** The 4xx status of an error that the client caused (ours, or body-parser's), else undefined. */
function clientStatus(error: unknown): number | undefined {
  if (error instanceof HttpError) return error.status;
  if (typeof error === "object" && error !== null) {
    const { status, expose } = error as { status?: unknown; expose?: unknown };
    if (typeof status === "number" && status >= 400 && status < 500 && expose === true) return status;
  }
  return undefined;
}
