/**
 * The hook endpoints on plain `node:http`: `POST /<parent>/<hook>` read, parsed, validated,
 * answered and counted. Metacontroller calls every hook on every resync of every parent with
 * every observed child in the body, so this is the server's hot path.
 *
 * Routes match in any case, with an optional trailing slash and any query. Bearer authentication
 * comes first; then a 413 past `BODY_LIMIT_BYTES`, a 415 unless the body is uncompressed
 * `application/json`, a 400 for an empty body, bad JSON or a `__proto__` /
 * `constructor.prototype` key, the deadline (503), and the one JSON error shape.
 *
 * For memory: bodies are admitted against a budget of half `BODY_LIMIT_BYTES` in
 * flight (a body waits, unread, until it fits); a large body is parsed as it arrives
 * (src/json-stream.ts), so its bytes and its text are never held whole; and a large answer is
 * written in slices with backpressure rather than as one string and one buffer of its whole size.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./errors.js";
import { Bytes, JsonBodyParser, parseText } from "./json-stream.js";
import type { Logger } from "./log.js";
import type { Metrics, Outcome } from "./metrics.js";

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Bytes of bodies in flight at once, as a share of `BODY_LIMIT_BYTES`: half, so that two large
 * pools' bodies are parsed one after the other (the one thread does one at a time anyway) rather
 * than held together; a body larger than that is admitted alone. Small bodies are not held back.
 */
const BUDGET_SHARE_OF_LIMIT = 0.5;

/** Answers with more array items than this are written in slices. */
const STREAM_ITEMS = 64;
/** Size of each slice of a sliced answer (characters; the JSON is ASCII but for user strings). */
const SLICE_CHARS = 64 * 1024;

export interface HookEndpointOptions<Name extends string> {
  names: readonly Name[];
  run: (name: Name, body: unknown) => Promise<unknown>;
  bodyLimitBytes: number;
  deadlineMs: number;
  /** When set, every hook call must carry `Authorization: Bearer <token>`. */
  token?: string;
  metrics: Metrics;
  logger: Logger;
}

/** Takes a request if it is a hook call (true), else leaves it for the next handler (false). */
export type HookEndpoint = (req: IncomingMessage, res: ServerResponse) => boolean;

export function hookEndpoint<Name extends string>(options: HookEndpointOptions<Name>): HookEndpoint {
  const routes = new Map(options.names.map((name) => [`/${name}`, name]));
  const shared: Shared<Name> = {
    options,
    budget: new ByteBudget(Math.floor(options.bodyLimitBytes * BUDGET_SHARE_OF_LIMIT)),
    deadlines: new Deadlines(options.deadlineMs),
    authorized: bearerCheck(options.token),
  };
  return (req, res) => {
    if (req.method !== "POST") return false;
    const name = routes.get(routePath(req.url));
    if (name === undefined) return false;
    new HookCall(name, req, res, shared).start();
    return true;
  };
}

interface Shared<Name extends string> {
  options: HookEndpointOptions<Name>;
  budget: ByteBudget;
  deadlines: Deadlines;
  authorized: (header: string | undefined) => boolean;
}

/**
 * One hook call, from the request line to the last byte of the answer. Written as callbacks
 * rather than `async` steps: this runs for every request, and a Sandbox's sync is small enough
 * that the plumbing around the hook is a good part of its cost.
 */
class HookCall<Name extends string> {
  private readonly started = performance.now();
  private ticket: BudgetTicket | undefined;
  /** Answered, failed or timed out: whatever comes later is dropped. */
  private settled = false;
  private deadline: Deadline | undefined;

  constructor(
    private readonly name: Name,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly shared: Shared<Name>,
  ) {}

  start(): void {
    const { req, res, shared } = this;
    const { options } = shared;
    // The one listener for the end of the call: count it, and give its budget share back.
    // (`close` comes once; `on` spares a wrapper per call.)
    res.on("close", this.closed);
    if (!shared.authorized(req.headers.authorization)) {
      this.fail(unauthorized(res));
      return;
    }
    const declared = declaredLength(req.headers);
    if (declared !== undefined && declared > options.bodyLimitBytes) {
      this.failAfterBody(tooLarge(options.bodyLimitBytes));
      return;
    }
    const refused = refusedBody(req.headers);
    if (refused !== undefined) {
      this.failAfterBody(refused);
      return;
    }
    // Admitted by what it says it holds; a body of unknown length may take the whole budget.
    const ticket = shared.budget.request(Math.min(declared ?? options.bodyLimitBytes, shared.budget.capacity));
    this.ticket = ticket;
    if (ticket.admitted === true) this.read(declared);
    else {
      void ticket.admitted.then((admitted) => {
        // A client that went while waiting gave up its place (see `closed`).
        if (admitted && !req.destroyed) this.read(declared);
      });
    }
  }

  private read(declared: number | undefined): void {
    receiveBody(this.req, declared, this.shared.options.bodyLimitBytes, (error, body) => {
      if (error !== undefined) this.fail(error);
      else this.run(body);
    });
  }

  private run(body: unknown): void {
    const { options } = this.shared;
    let work: Promise<unknown>;
    try {
      work = options.run(this.name, body);
    } catch (error) {
      this.fail(error);
      return;
    }
    // A hook that outlasts its deadline gets a 503 (Metacontroller retries) instead of
    // Metacontroller timing out on us. The work itself goes on: a claim that lands late is found
    // by the next sync.
    this.deadline = this.shared.deadlines.add(() => {
      this.fail(new HttpError(503, `The ${this.name} hook did not finish within ${options.deadlineMs} ms; retry`));
    });
    work.then(
      (answer) => {
        if (this.settle()) this.answer(answer);
      },
      (error: unknown) => {
        this.fail(error);
      },
    );
  }

  private answer(answer: unknown): void {
    let writing: Promise<void> | undefined;
    try {
      writing = writeJson(this.res, 200, answer, this.shared.options.deadlineMs);
    } catch (error) {
      this.failWriting(error);
      return;
    }
    writing?.catch((error: unknown) => {
      this.failWriting(error);
    });
  }

  /** The first outcome wins; true for it. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.deadline !== undefined) this.shared.deadlines.remove(this.deadline);
    return true;
  }

  private fail(error: unknown): void {
    if (this.settle()) sendError(this.req, this.res, error, this.shared.options.logger);
  }

  private failWriting(error: unknown): void {
    if (error instanceof ClientGone) return;
    sendError(this.req, this.res, error, this.shared.options.logger);
  }

  /** Refuses a body without using it: read off first, so the answer comes after the request as clients expect. */
  private failAfterBody(error: HttpError): void {
    drain(this.req, () => {
      this.fail(error);
    });
  }

  private readonly closed = (): void => {
    this.ticket?.done();
    // Cut off before its answer was written: not counted, as before.
    if (!this.res.writableFinished) return;
    const status = this.res.statusCode;
    const outcome: Outcome = status < 400 ? "ok" : status < 500 ? "invalid" : "error";
    this.shared.options.metrics.hooks.series(this.name, outcome).observe((performance.now() - this.started) / 1000);
  };
}

/** The path of a request target as routes match it: lower case, no query, no trailing slash. */
export function routePath(url: string | undefined): string {
  if (url === undefined) return "";
  let path = url;
  if (!path.startsWith("/")) {
    try {
      path = new URL(path).pathname;
    } catch {
      return "";
    }
  }
  const query = path.indexOf("?");
  if (query !== -1) path = path.slice(0, query);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return path.toLowerCase();
}

/** An Authorization header with a bearer token; exported for test/regex-safety.test.ts. */
export const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Metacontroller ≥ v4.16 sends the CompositeController's `authorization` as a header; without a
 * token anyone who can reach the port can drive the claimer. Compared in constant time (the
 * digests have one length whatever was sent), so timing tells nothing about the token.
 */
export function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = createHash("sha256").update(token).digest();
  return (header) => {
    const match = BEARER.exec(header ?? "");
    const given = createHash("sha256").update(match?.[1] ?? "").digest();
    return match !== null && timingSafeEqual(given, expected);
  };
}

/** The 401 for a call without the right token, its challenge set on `res`. */
export function unauthorized(res: ServerResponse): HttpError {
  res.setHeader("WWW-Authenticate", 'Bearer realm="llmsafespace-hooks"');
  return new HttpError(401, "Missing or wrong bearer token: set the CompositeController's webhook authorization to the hook server's token");
}

function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const header = headers["content-length"];
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body too large: the limit is ${limit} bytes (BODY_LIMIT_BYTES)`);
}

/** Reads off a body that will not be used, then calls back. */
function drain(req: IncomingMessage, then: () => void): void {
  if (req.readableEnded || req.destroyed) {
    then();
    return;
  }
  req.once("end", then);
  req.resume();
}

/**
 * Why a body will not be read: not JSON, or compressed (Metacontroller sends plain JSON, and a
 * body inflated here would escape the limit).
 */
function refusedBody(headers: IncomingHttpHeaders): HttpError | undefined {
  const encoding = (headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity") return new HttpError(415, `Content-Encoding ${encoding} is not supported; send the body uncompressed`);
  if (!isJson(headers["content-type"])) return new HttpError(415, `Content-Type must be application/json, got ${headers["content-type"] ?? "none"}`);
  return undefined;
}

/** Where a body's bytes go as they arrive; `end` gives the parsed body. */
interface BodySink {
  write(chunk: Buffer): void;
  end(): unknown;
}

/**
 * Bodies at least this long (or of unknown length) are parsed as they arrive (src/json-stream.ts).
 * Below it, the bytes, the text and the objects held together for a moment cost little, and one
 * `JSON.parse` of the whole text is about twice as fast as the incremental parser.
 */
const STREAM_BYTES = 8 << 20;
/** The request keys holding every observed child and related object, parsed one by one. */
const OBJECT_MAPS: ReadonlySet<string> = new Set(["children", "related"]);

/**
 * The parsed body, or why there is none. A large body (or one of unknown length) is parsed as it
 * arrives, so that its bytes are never held whole; a small one is read into one buffer and parsed
 * whole. Called back once, unless the client goes away first (then the call ends on `close`).
 */
function receiveBody(
  req: IncomingMessage,
  declared: number | undefined,
  limit: number,
  then: (error: HttpError | undefined, body?: unknown) => void,
): void {
  const sink: BodySink = declared !== undefined && declared < STREAM_BYTES ? new WholeBody(declared) : new JsonBodyParser(OBJECT_MAPS);
  let received = 0;
  // The first thing wrong with the body; the rest of it is read off before the answer.
  let wrong: HttpError | undefined;
  req.on("data", (chunk: Buffer) => {
    if (wrong !== undefined) return;
    received += chunk.length;
    if (received > limit) wrong = tooLarge(limit);
    else if (declared !== undefined && received > declared) wrong = new HttpError(400, "Request body is longer than its Content-Length");
    else {
      try {
        sink.write(chunk);
      } catch (error) {
        wrong = badJson(error);
      }
    }
  });
  req.once("end", () => {
    if (wrong !== undefined) {
      then(wrong);
      return;
    }
    if (received === 0) {
      then(new HttpError(400, "Request body is empty; expected a JSON object"));
      return;
    }
    let body: unknown;
    try {
      body = sink.end();
    } catch (error) {
      then(badJson(error));
      return;
    }
    then(undefined, body);
  });
}

function badJson(error: unknown): HttpError {
  return new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`);
}

/**
 * A small body: into one buffer of its declared length as it arrives, then parsed whole, with
 * secure-json-parse's prototype-poisoning rule (a `__proto__` key, or a `constructor` key holding
 * a `prototype`, anywhere → an error) and its leading byte order mark skipped.
 */
class WholeBody implements BodySink {
  private readonly bytes: Bytes;

  constructor(declared: number) {
    this.bytes = new Bytes(declared);
  }

  write(chunk: Buffer): void {
    this.bytes.add(chunk);
  }

  end(): unknown {
    const text = this.bytes.take();
    return parseText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  }
}

/** `application/json`, with or without parameters such as `charset`. */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === "application/json";
}

/**
 * Writes a JSON answer, byte for byte what `JSON.stringify` gives. An object with a long array
 * (a pool's thousands of kept pods) is written in slices of about {@link SLICE_CHARS}, each
 * after the last has drained — never one string, and one buffer, the size of the whole answer —
 * and the promise says when the last is handed over; anything else is written at once. A client
 * that takes none of a slice for `stallMs` loses its connection: it would otherwise hold its
 * share of the body budget for as long as it stays connected.
 */
export function writeJson(res: ServerResponse, status: number, value: unknown, stallMs: number): Promise<void> | undefined {
  if (!isSliceable(value)) {
    sendJson(res, status, value);
    return undefined;
  }
  return writeSlices(res, status, value, stallMs);
}

/** A JSON answer written whole, with its length. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": JSON_TYPE, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function writeSlices(res: ServerResponse, status: number, value: Record<string, unknown>, stallMs: number): Promise<void> {
  res.writeHead(status, { "content-type": JSON_TYPE });
  let slice = "{";
  let first = true;
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
    slice += `${first ? "" : ","}${JSON.stringify(key)}:`;
    first = false;
    if (!Array.isArray(item) || item.length <= STREAM_ITEMS) {
      slice += JSON.stringify(item);
      continue;
    }
    slice += "[";
    for (let index = 0; index < item.length; index++) {
      // As in an array JSON.stringify writes whole: what has no JSON form is null.
      const text = JSON.stringify(item[index]) as string | undefined;
      slice += `${index === 0 ? "" : ","}${text ?? "null"}`;
      if (slice.length >= SLICE_CHARS) {
        await write(res, slice, stallMs);
        slice = "";
      }
    }
    slice += "]";
  }
  res.end(`${slice}}`);
}

/**
 * A plain object with an array long enough to be worth slicing, and nothing whose JSON form could
 * depend on where it stands: `JSON.stringify` hands `toJSON` the key or index, which slicing
 * does not (a Date's ignores it).
 */
function isSliceable(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value) || hasToJson(value)) return false;
  let long = false;
  for (const item of Object.values(value)) {
    if (hasToJson(item)) return false;
    if (Array.isArray(item) && item.length > STREAM_ITEMS) {
      if (item.some(hasToJson)) return false;
      long = true;
    }
  }
  return long;
}

function hasToJson(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === "function" && toJSON !== Date.prototype.toJSON;
}

/** One slice, then wait for it to drain (or for the client to go: the rest is not written). */
function write(res: ServerResponse, chunk: string, stallMs: number): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // Closing the connection ends the wait below, on `close`.
    const stalled = setTimeout(() => res.destroy(), stallMs);
    const done = () => {
      clearTimeout(stalled);
      res.off("drain", done);
      res.off("close", gone);
      resolve();
    };
    const gone = () => {
      clearTimeout(stalled);
      res.off("drain", done);
      res.off("close", gone);
      reject(new ClientGone());
    };
    res.on("drain", done);
    res.on("close", gone);
  });
}

/** The client went away: nobody is left to answer. */
class ClientGone extends Error {}

/**
 * The one error answer. Bad input → 4xx with `{error, details}`; anything else → 500, logged,
 * and Metacontroller retries. Never a 200 with half an answer: an answer that fails half-written
 * (it cannot: answers are plain JSON) loses its connection instead.
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

/** Answers with the error (or, once the answer has begun, drops the connection), and logs it. */
export function sendError(req: IncomingMessage, res: ServerResponse, error: unknown, logger: Logger): void {
  if (error instanceof ClientGone) return;
  const path = routePath(req.url);
  if (res.headersSent) {
    logger.error({ path, err: error }, "Failed while writing an answer; dropped the connection");
    res.destroy();
    return;
  }
  const answer = errorAnswer(error);
  logError(logger, path, error, answer);
  if (answer.retry) res.setHeader("Retry-After", "1");
  sendJson(res, answer.status, answer.body);
}

/** A call's deadline in {@link Deadlines}. */
interface Deadline {
  at: number;
  expire: () => void;
  previous: Deadline | undefined;
  next: Deadline | undefined;
}

/**
 * The deadlines of the hooks in flight, and one timer for them all rather than one per call.
 * Every call has the same allowance, so the list is in order of expiry as it is of arrival; the
 * timer is armed for the first, and calls that finish leave the list in constant time.
 */
export class Deadlines {
  private first: Deadline | undefined;
  private last: Deadline | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  add(expire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.ms, expire, previous: this.last, next: undefined };
    if (this.last === undefined) this.first = deadline;
    else this.last.next = deadline;
    this.last = deadline;
    if (this.timer === undefined) this.arm(this.ms);
    return deadline;
  }

  remove(deadline: Deadline): void {
    if (deadline.previous === undefined) {
      if (this.first !== deadline) return;
      this.first = deadline.next;
    } else deadline.previous.next = deadline.next;
    if (deadline.next === undefined) this.last = deadline.previous;
    else deadline.next.previous = deadline.previous;
    deadline.previous = undefined;
    deadline.next = undefined;
  }

  private arm(delay: number): void {
    // Unref'd: a deadline never keeps the process alive by itself.
    this.timer = setTimeout(this.fire, Math.max(0, delay)).unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (let due = this.first; due !== undefined && due.at <= now; due = this.first) {
      this.remove(due);
      due.expire();
    }
    if (this.first !== undefined) this.arm(this.first.at - now);
  };
}

/** A place in a {@link ByteBudget}: admitted at once (true), or later (true) or never (false). */
export interface BudgetTicket {
  admitted: true | Promise<boolean>;
  /** Gives the share back, or the place in the queue; once, however often it is called. */
  done: () => void;
}

/**
 * Bytes of request bodies in memory at once. A body is admitted when its share fits (a share is
 * never more than the capacity, so every body is admitted eventually); until then it is not read,
 * and TCP holds the client back. Large bodies are admitted in arrival order; a small one (a
 * Sandbox's, a few KiB) that fits goes ahead of them rather than wait for a pool's megabytes.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Waiter[] = [];
  private readonly small: number;

  constructor(readonly capacity: number) {
    this.small = capacity / 64;
  }

  /** Bytes admitted now. */
  get inUse(): number {
    return this.used;
  }

  request(bytes: number): BudgetTicket {
    if (this.used + bytes <= this.capacity && (this.waiting.length === 0 || bytes <= this.small)) {
      this.used += bytes;
      let held = true;
      return {
        admitted: true,
        done: () => {
          if (held) this.release(bytes);
          held = false;
        },
      };
    }
    const waiter: Waiter = { bytes, state: "waiting", admit: () => undefined };
    const admitted = new Promise<boolean>((resolve) => {
      waiter.admit = resolve;
    });
    this.waiting.push(waiter);
    return {
      admitted,
      done: () => {
        if (waiter.state === "held") this.release(bytes);
        else if (waiter.state === "waiting") {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          waiter.admit(false);
          // The one it held back may let others in.
          this.release(0);
        }
        waiter.state = "done";
      },
    };
  }

  private release(bytes: number): void {
    this.used -= bytes;
    for (let next = this.waiting[0]; next !== undefined && this.used + next.bytes <= this.capacity; next = this.waiting[0]) {
      this.waiting.shift();
      this.used += next.bytes;
      next.state = "held";
      next.admit(true);
    }
  }
}

interface Waiter {
  bytes: number;
  state: "waiting" | "held" | "done";
  admit: (admitted: boolean) => void;
}
