/**
 * The hook server's request handling: the hooks by name, the express app with its routes,
 * validation at the edge, metrics and the one error handler.
 */
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { parse } from "secure-json-parse";
import { sandboxCustomize } from "../../hooks/sandbox-customize.js";
import { sandboxFinalize } from "../../hooks/sandbox-finalize.js";
import { sandboxSync, type SandboxTransition } from "../../hooks/sandbox-sync.js";
import { warmPoolCustomize } from "../../hooks/warmpool-customize.js";
import { warmPoolFinalize } from "../../hooks/warmpool-finalize.js";
import { warmPoolSync } from "../../hooks/warmpool-sync.js";
import type { Sandbox, WarmPool } from "../api/index.js";
import { disabledRetirer, noRecycling, poolSize, type WarmPodClaimer, type WarmPodRecycler, type WarmPodRetirer } from "../warm-pool/index.js";
import type { Config } from "./config.js";
import { Deadlines } from "./deadlines.js";
import { HttpError } from "./errors.js";
import { bearerCheck, unauthorized } from "./auth.js";
import type { Logger } from "./log.js";
import type { CustomizeRequest, HookRequest } from "../api/index.js";
import { exposition, type Metrics } from "./metrics.js";
import { Transitions } from "./transitions.js";
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
  /**
   * Counts Sandbox transitions once each. @default this server's memory only (no cluster-wide
   * record: two replicas, or a restart, may count a transition twice)
   */
  transitions?: Transitions;
  /** Told of every hook call's end: answered whole, or cut off (main.ts logs both at exit). */
  onHookDone?: (answered: boolean) => void;
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
  const transitions = deps.transitions ?? new Transitions({ metrics: deps.metrics, clock: deps.clock, logger: deps.logger });
  const syncMetrics = {
    podStarted: (runtime: string, securityLevel: string, warmRequested: boolean) => {
      deps.metrics.allocationAttempts.inc({ runtime, security_level: securityLevel, requested: warmRequested ? "requested" : "not_requested" });
    },
    transition: (transition: SandboxTransition) => {
      transitions.record(transition);
    },
  };
  return {
    "sandbox/customize": (body) => sandboxCustomize(body as CustomizeRequest<Sandbox>, { config }),
    "sandbox/sync": async (body, now) => {
      const request = body as HookRequest<Sandbox>;
      const { related, problems } = validators.checkRelated(request.related);
      const response = await sandboxSync({ ...request, related }, { config, claimer, now, relatedProblems: problems, metrics: syncMetrics });
      deps.metrics.starting.synced(request.parent.metadata.uid ?? "", request.parent.metadata.creationTimestamp, response.status);
      return response;
    },
    "sandbox/finalize": async (body, now) => {
      const request = body as HookRequest<Sandbox>;
      deps.metrics.starting.forget(request.parent.metadata.uid ?? "");
      return sandboxFinalize(request, {
        now,
        recycler: deps.recycler ?? noRecycling,
        onRecycleDecision: (decision) => {
          deps.metrics.recycleDecisions.inc({ decision: decision.recycle ? "recycle" : "delete", reason: decision.reason });
        },
      });
    },
    "warmpool/customize": (body) => warmPoolCustomize(body as CustomizeRequest<WarmPool>, { config }),
    "warmpool/sync": async (body, now) => {
      const request = body as HookRequest<WarmPool>;
      const { related, problems } = validators.checkRelated(request.related);
      const response = await warmPoolSync({ ...request, related }, { config, retirer, now, relatedProblems: problems });
      const { status } = response;
      const { metadata, spec } = request.parent;
      deps.metrics.pools.set(
        { namespace: metadata.namespace ?? "", pool: metadata.name, runtime: spec.runtime, securityLevel: spec.securityLevel },
        {
          available: status.availablePods ?? 0,
          pending: status.pendingPods ?? 0,
          assigned: status.assignedPods ?? 0,
          desired: poolSize(spec, status.assignedPods ?? 0).desired,
        },
      );
      return response;
    },
    "warmpool/finalize": async (body, now) => {
      const request = body as HookRequest<WarmPool>;
      const response = await warmPoolFinalize(request, { retirer, now });
      if (response.finalized === true) deps.metrics.pools.remove(request.parent.metadata.namespace ?? "", request.parent.metadata.name);
      return response;
    },
  };
}

/** The JSON body parser's errors (body-parser's `type`), as this server words them. */
function bodyError(error: { type?: unknown; message: string; status?: unknown }, limit: number): HttpError {
  switch (error.type) {
    case "entity.too.large":
      return new HttpError(413, `Request body too large: the limit is ${limit} bytes (BODY_LIMIT_BYTES)`);
    case "charset.unsupported":
      return new HttpError(415, `Request body charset is not supported (${error.message}); send UTF-8 JSON`);
    case "request.size.invalid":
      return new HttpError(400, "Request body is not as long as its Content-Length");
    default:
      return new HttpError(typeof error.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 400, error.message);
  }
}

const JSON_TYPE = /^\s*application\/json\s*(?:;|$)/i;

/** `application/json`, with or without parameters such as `charset`. */
function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_TYPE.test(contentType);
}

/**
 * The hook server: an express app with a route for the hooks (`POST /<parent>/<hook>`),
 * `/healthz`, `/readyz` and `/metrics`, and one error handler. It does not listen, so tests drive it in-process (supertest) and main.ts
 * serves it over HTTP or HTTPS, with the server timeouts that cut off a request still arriving.
 *
 * A hook call, in order: counted when its answer is done; Bearer authentication; a 415 unless
 * the body is uncompressed `application/json` (Metacontroller sends plain JSON, and a body
 * inflated here would escape the limit); a 400 for an empty body; the body read by express's
 * body parser with `BODY_LIMIT_BYTES` (413 past it) and parsed by secure-json-parse (400 for bad
 * JSON or a `__proto__` / `constructor.prototype` key); then the hook, with a 503 and
 * `Retry-After` if it outlasts `HOOK_DEADLINE_MS`.
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const { bodyLimitBytes, hookDeadlineMs, auth } = deps.config;
  const authorized = bearerCheck(deps.token);
  const run = hookRunner(deps);
  const { logger, metrics } = deps;

  const requireToken: RequestHandler = (req, res, next) => {
    if (authorized(req.headers.authorization)) next();
    else next(unauthorized(res));
  };
  // The body as text (express.text, so the limit and charset are body-parser's), then parsed by
  // secure-json-parse, which walks the result for prototype poisoning only when the text holds
  // a suspect key: most bodies cost one JSON.parse, as with express.json.
  const readBody = express.text({ limit: bodyLimitBytes, inflate: false, type: "application/json" });

  const names = new Map<string, HookName>(HOOK_NAMES.map((name) => [name, name]));
  const deadlines = new Deadlines(hookDeadlineMs);

  /** Before the body is read: the token, then a 415 unless the body is uncompressed JSON. */
  const refusal = (req: Request, res: Response): HttpError | undefined => {
    if (!authorized(req.headers.authorization)) return unauthorized(res);
    const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
    if (encoding !== "identity") return new HttpError(415, `Content-Encoding ${encoding} is not supported; send the body uncompressed`);
    if (!isJson(req.headers["content-type"])) return new HttpError(415, `Content-Type must be application/json, got ${req.headers["content-type"] ?? "none"}`);
    // body-parser reads an empty body as {}; this server says what is wrong with it instead.
    if (req.headers["content-length"] === "0") return new HttpError(400, "Request body is empty; expected a JSON object");
    return undefined;
  };

  /** After the body is parsed: the poisoning check, then the hook within its deadline. */
  const answer = (name: HookName, req: Request, res: Response, next: NextFunction): void => {
    let body: unknown;
    try {
      // A __proto__ key, or a constructor key holding a prototype, anywhere in the body: a 400.
      body = parse(req.body as string, { protoAction: "error", constructorAction: "error" });
    } catch (error) {
      next(new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`));
      return;
    }
    let settled = false;
    // A hook that outlasts its deadline gets a 503 (Metacontroller retries) instead of
    // Metacontroller timing out on us. The work itself goes on: a claim that lands late is
    // found by the next sync.
    const deadline = deadlines.start(() => {
      settled = true;
      next(new HttpError(503, `The ${name} hook did not finish within ${hookDeadlineMs} ms; retry`));
    });
    run(name, body).then(
      (result) => {
        if (settled) return;
        settled = true;
        deadline.cancel();
        res.json(result);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        deadline.cancel();
        next(error);
      },
    );
  };

  /**
   * A hook call, one handler from start to end (routes match in any case): counted once its
   * answer is done, admitted, its body parsed, answered.
   */
  const hookCall: RequestHandler = (req, res, next) => {
    const name = names.get(`${String(req.params.parent)}/${String(req.params.hook)}`.toLowerCase());
    if (name === undefined) {
      next("route");
      return;
    }
    const started = performance.now();
    res.on("close", () => {
      deps.onHookDone?.(res.writableFinished);
      // Cut off before its answer was written: not counted.
      if (!res.writableFinished) return;
      const status = res.statusCode;
      metrics.hooks.series(name, status < 400 ? "ok" : status < 500 ? "invalid" : "error").observe((performance.now() - started) / 1000);
    });
    const refused = refusal(req, res);
    if (refused !== undefined) {
      next(refused);
      return;
    }
    readBody(req, res, (error?: unknown) => {
      if (error !== undefined) next(error);
      else answer(name, req, res, next);
    });
  };
  app.post("/:parent/:hook", hookCall);

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", (_req, res) => {
    const ready = deps.isReady?.() ?? true;
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "not ready" });
  });
  app.get("/metrics", ...(auth.protectMetrics ? [requireToken] : []), async (_req, res) => {
    res.type(metrics.registry.contentType).send(await exposition(metrics));
  });
  app.use((req, _res, next) => {
    next(new HttpError(404, `No route for ${req.method} ${req.path}`));
  });

  // Express tells an error handler by its four parameters, the last unused here.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const handleError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    const path = req.path;
    // The client went away while its body arrived: nobody is left to answer.
    if ((error as { type?: unknown }).type === "request.aborted") return;
    if (res.headersSent) {
      logger.error({ path, err: error }, "Failed while writing an answer; dropped the connection");
      res.destroy();
      return;
    }
    const known =
      error instanceof HttpError
        ? error
        : typeof (error as { type?: unknown }).type === "string"
          ? bodyError(error as { type: string; message: string }, bodyLimitBytes)
          : error;
    const answer = errorAnswer(known);
    logError(logger, path, known, answer);
    if (answer.retry) res.set("Retry-After", "1");
    res.status(answer.status).json(answer.body);
  };
  app.use(handleError);
  return app;
}

/**
 * The one error answer. Bad input → 4xx with `{error, details}`; anything else → 5xx, logged,
 * with `Retry-After`, and Metacontroller retries. Never a 200 with half an answer.
 */
function errorAnswer(error: unknown): { status: number; retry: boolean; body: { error: string; details: string[] } } {
  if (error instanceof HttpError && error.status >= 500) {
    return { status: error.status, retry: true, body: { error: error.message, details: [] } };
  }
  if (error instanceof HttpError) return { status: error.status, retry: false, body: { error: error.message, details: error.details } };
  return { status: 500, retry: true, body: { error: "Internal error while answering the hook; Metacontroller will retry", details: [] } };
}

/** Logs an error as {@link errorAnswer} classes it: retryable → warn, client → debug, ours → error. */
function logError(logger: Logger, path: string, error: unknown, answer: ReturnType<typeof errorAnswer>): void {
  if (answer.retry && error instanceof HttpError) {
    logger.warn({ path, status: answer.status, error: error.message }, "Answered a hook with a retryable error");
  } else if (!answer.retry) {
    logger.debug({ path, status: answer.status, error: answer.body.error, details: answer.body.details }, "Rejected request");
  } else {
    logger.error({ path, err: error }, "Failed to answer request");
  }
}
