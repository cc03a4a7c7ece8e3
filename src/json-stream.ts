/**
 * A JSON body parsed as it arrives, for the large ones: a WarmPool's sync with thousands of
 * observed pods is tens of megabytes, and `JSON.parse` needs all of it as one string — the bytes,
 * the string and the parsed objects in memory at once, the first two outside the JS heap where a
 * heap limit does not hold them back, and all of it left for a full GC.
 *
 * This parser reads the outer objects itself — the request, its `children` and `related` maps
 * and their `<Kind>.<apiVersion>` groups — and hands the rest to `JSON.parse` as soon as it has
 * arrived: each top-level value, and each group's members in runs of about {@link BATCH_BYTES}
 * (`{` + the members' own text + `}`). No more than that many bytes of text are held at once, and
 * what it builds is what `JSON.parse` of the whole text builds: the same values, keys in the same
 * order, the last of duplicated keys; a text `JSON.parse` refuses is refused. Prototype poisoning
 * is refused as secure-json-parse refuses it: a `__proto__` key, or a `constructor` key holding
 * an object with a `prototype`, anywhere.
 *
 * Why a run of members parses alike: it is cut only at a comma between two members of a group,
 * and `{A}` and `{B}` are both JSON exactly when `{A,B}` is.
 */
import secureJson from "secure-json-parse";

/** Why a body is not (acceptable) JSON; the message says where. */
export class JsonBodyError extends Error {}

/** Members of a group are parsed in runs of about this many bytes. */
const BATCH_BYTES = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

// Where an object is in its grammar.
/** Just after `{`: a key or `}`. */
const FIRST_KEY = 0;
/** After `,`: a key. */
const KEY = 1;
const COLON_NEXT = 2;
const VALUE = 3;
/** After a value: `,` or `}`. */
const COMMA_NEXT = 4;

interface Frame {
  object: Record<string, unknown>;
  /** 0 for the request, 1 for a map (`children`), 2 for a group (`Pod.v1`). */
  depth: number;
  state: number;
  key: string;
}

/**
 * The text of something that is still arriving — a key, a value, or a run of a group's members —
 * and where its scan is: brackets open, inside a string, just after a backslash.
 */
class Text {
  readonly bytes = new Bytes();
  depth = 0;
  inString = false;
  escaped = false;
}

/**
 * Bytes copied in as they arrive, into one buffer that doubles as it fills — not views of the
 * chunks: a body sent a byte at a time would otherwise keep an object, and the socket's read
 * buffer behind it, alive for every byte it holds.
 */
export class Bytes {
  private buffer: Buffer;
  length = 0;

  /** @param capacity room to start with: a body's declared length, when it is known */
  constructor(capacity = 0) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  add(part: Buffer): void {
    const length = this.length + part.length;
    if (length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(length, 2 * this.buffer.length, 1024));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    part.copy(this.buffer, this.length);
    this.length = length;
  }

  /** The bytes so far as text; then empty, keeping the room for what comes next. */
  take(): string {
    const text = this.buffer.toString("utf8", 0, this.length);
    this.length = 0;
    return text;
  }
}

/** A value being collected: its text, and whether it is a string, an object or array, or neither. */
interface Piece {
  text: Text;
  kind: "string" | "compound" | "primitive";
  isKey: boolean;
}

const POISON = "Object contains forbidden prototype property";
const BOM = [0xef, 0xbb, 0xbf];

/**
 * Incremental parser: `write` each chunk, then `end` for the value. Throws {@link JsonBodyError}
 * as soon as the text cannot be JSON (or poisons a prototype).
 */
export class JsonBodyParser {
  private readonly stack: Frame[] = [];
  private readonly skeleton: Record<string, unknown>[] = [];
  private piece: Piece | undefined;
  /** The run of members of the open group, where in a member it is, and the key or value it is in. */
  private readonly run = new Text();
  private member = FIRST_KEY;
  private token: Piece["kind"] | undefined;
  /** Where the open run of members starts in the current chunk (-1: no run open). */
  private runStart = -1;
  private root: Record<string, unknown> | undefined;
  /** The whole text, when it is not an object: then `JSON.parse` takes all of it. */
  private whole: Bytes | undefined;
  private started = false;
  private bom = 0;
  private offset = 0;

  /**
   * @param deep top-level keys whose values are maps of groups of members, parsed run by run
   * @param batchBytes how long a run of members grows before it is parsed
   */
  constructor(
    private readonly deep: ReadonlySet<string>,
    private readonly batchBytes = BATCH_BYTES,
  ) {}

  write(chunk: Buffer): void {
    let at = 0;
    if (this.whole !== undefined) {
      this.whole.add(chunk);
      this.offset += chunk.length;
      return;
    }
    if (!this.started) at = this.start(chunk);
    while (at < chunk.length) {
      const frame = this.stack[this.stack.length - 1];
      if (this.piece !== undefined) at = this.scanPiece(chunk, at, this.piece);
      else if (frame?.depth === 2) at = this.scanGroup(chunk, at, frame);
      else at = this.step(chunk, at, frame);
    }
    // The run goes on in the next chunk.
    const frame = this.stack[this.stack.length - 1];
    if (frame?.depth === 2 && this.runStart >= 0) {
      this.run.bytes.add(chunk.subarray(this.runStart));
      this.runStart = 0;
    }
    this.offset += chunk.length;
  }

  end(): unknown {
    if (this.whole !== undefined) return parseText(this.whole.take(), this.offset);
    if (!this.started) this.fail(0, "Unexpected end of JSON input");
    if (this.stack.length > 0 || this.piece !== undefined) this.fail(0, "Unexpected end of JSON input");
    for (const object of this.skeleton) checkConstructor(object);
    return this.root;
  }

  /** The byte order mark and whitespace before the first value; returns where the value starts. */
  private start(chunk: Buffer): number {
    let at = 0;
    // A UTF-8 byte order mark is skipped, as secure-json-parse skips U+FEFF: only as the very
    // first bytes of the body, so not after whitespace that came in an earlier chunk.
    while (this.bom < 3 && this.offset + at === this.bom && at < chunk.length && chunk[at] === BOM[this.bom]) {
      this.bom++;
      at++;
    }
    if (this.bom > 0 && this.bom < 3 && at < chunk.length) this.fail(at, "Unexpected token");
    while (at < chunk.length && isSpace(chunk[at])) at++;
    if (at === chunk.length) return at;
    this.started = true;
    if (chunk[at] !== OPEN_BRACE) {
      this.whole = new Bytes();
      this.whole.add(chunk.subarray(at));
      return chunk.length;
    }
    this.root = {};
    this.skeleton.push(this.root);
    this.stack.push({ object: this.root, depth: 0, state: FIRST_KEY, key: "" });
    return at + 1;
  }

  /** The outer structure, outside groups: one token at a time (whitespace skipped in bulk). */
  private step(chunk: Buffer, at: number, frame: Frame | undefined): number {
    let i = at;
    while (i < chunk.length && isSpace(chunk[i])) i++;
    if (i === chunk.length) return i;
    const byte = chunk[i];
    // After the root object: nothing but whitespace.
    if (frame === undefined) return this.fail(i, "Unexpected non-whitespace character after JSON");
    switch (frame.state) {
      case FIRST_KEY:
      case KEY:
        if (byte === CLOSE_BRACE && frame.state === FIRST_KEY) return this.close(i);
        if (byte !== QUOTE) this.fail(i, "Expected double-quoted property name");
        this.piece = { text: new Text(), kind: "string", isKey: true };
        return i;
      case COLON_NEXT:
        if (byte !== COLON) this.fail(i, "Expected ':' after property name");
        frame.state = VALUE;
        return i + 1;
      case VALUE:
        if (byte === OPEN_BRACE && (frame.depth === 1 || this.deep.has(frame.key))) {
          const object: Record<string, unknown> = {};
          assign(frame.object, frame.key, object, this.offset + i);
          this.skeleton.push(object);
          frame.state = COMMA_NEXT;
          this.stack.push({ object, depth: frame.depth + 1, state: FIRST_KEY, key: "" });
          if (frame.depth === 1) {
            this.member = FIRST_KEY;
            this.token = undefined;
            this.runStart = -1;
          }
          return i + 1;
        }
        this.piece = { text: new Text(), kind: kindOf(byte), isKey: false };
        return i;
      default:
        if (byte === COMMA) {
          frame.state = KEY;
          return i + 1;
        }
        if (byte === CLOSE_BRACE) return this.close(i);
        return this.fail(i, "Expected ',' or '}' after property value");
    }
  }

  private close(at: number): number {
    this.stack.pop();
    return at + 1;
  }

  /** A key or value of the outer structure, up to its last byte, then parsed. */
  private scanPiece(chunk: Buffer, at: number, piece: Piece): number {
    const text = piece.text;
    const end = scan(chunk, at, text, piece.kind);
    text.bytes.add(chunk.subarray(at, end < 0 ? chunk.length : end));
    if (end < 0) return chunk.length;
    this.piece = undefined;
    const frame = this.stack[this.stack.length - 1];
    if (frame === undefined) return end;
    const value = parseText(text.bytes.take(), this.offset + end);
    if (piece.isKey) {
      frame.key = value as string;
      frame.state = COLON_NEXT;
    } else {
      assign(frame.object, frame.key, value, this.offset + end);
      frame.state = COMMA_NEXT;
    }
    return end;
  }

  /**
   * Inside a group: finds where each member ends, without parsing it, and parses the members in
   * runs. `JSON.parse` checks the members' own syntax; this only has to find the commas between them.
   */
  private scanGroup(chunk: Buffer, at: number, frame: Frame): number {
    const run = this.run;
    const n = chunk.length;
    let i = at;
    while (i < n) {
      if (this.token !== undefined) {
        // A key or value that began in an earlier chunk.
        const end = scan(chunk, i, run, this.token);
        if (end < 0) return n;
        i = end;
        this.token = undefined;
        this.member = this.member === KEY ? COLON_NEXT : COMMA_NEXT;
        continue;
      }
      while (i < n && isSpace(chunk[i])) i++;
      if (i === n) return n;
      const byte = chunk[i];
      if (this.member === FIRST_KEY || this.member === KEY) {
        if (byte === CLOSE_BRACE && this.member === FIRST_KEY) return this.close(i);
        if (byte !== QUOTE) this.fail(i, "Expected double-quoted property name");
        if (this.runStart < 0) this.runStart = i;
        this.member = KEY;
        const end = scan(chunk, i, run, "string");
        if (end < 0) {
          this.token = "string";
          return n;
        }
        i = end;
        this.member = COLON_NEXT;
      } else if (this.member === COLON_NEXT) {
        if (byte !== COLON) this.fail(i, "Expected ':' after property name");
        this.member = VALUE;
        i++;
      } else if (this.member === VALUE) {
        const kind = kindOf(byte);
        const end = scan(chunk, i, run, kind);
        if (end < 0) {
          this.token = kind;
          return n;
        }
        i = end;
        this.member = COMMA_NEXT;
      } else if (byte === COMMA) {
        // Cut the run here once it is long enough; the next member starts the next run.
        if (run.bytes.length + i - this.runStart >= this.batchBytes) this.flushRun(chunk, i, frame);
        this.member = KEY;
        i++;
      } else if (byte === CLOSE_BRACE) {
        this.flushRun(chunk, i, frame);
        return this.close(i);
      } else {
        this.fail(i, "Expected ',' or '}' after property value");
      }
    }
    return i;
  }

  /** Parses the open run of members, which ends just before `end` in this chunk. */
  private flushRun(chunk: Buffer, end: number, frame: Frame): void {
    const run = this.run;
    if (this.runStart >= 0) run.bytes.add(chunk.subarray(this.runStart, end));
    this.runStart = -1;
    if (run.bytes.length === 0) return;
    const members = parseText(`{${run.bytes.take()}}`, this.offset + end) as Record<string, unknown>;
    for (const key of Object.keys(members)) frame.object[key] = members[key];
  }

  private fail(at: number, message: string): never {
    throw new JsonBodyError(`${message} at position ${this.offset + at}`);
  }
}

function kindOf(byte: number | undefined): Piece["kind"] {
  return byte === QUOTE ? "string" : byte === OPEN_BRACE || byte === OPEN_BRACKET ? "compound" : "primitive";
}

/**
 * Scans a string, object or array, or primitive from `at` (its first byte, or where an earlier
 * chunk left `state`); returns the index just after its last byte, or -1 if it goes on in the
 * next chunk. Most bytes of a large body pass through the two tight loops here.
 */
function scan(chunk: Buffer, at: number, state: Text, kind: Piece["kind"]): number {
  const bytes: Uint8Array = chunk;
  const n = bytes.length;
  let i = at;
  if (kind === "primitive") {
    // Up to the first byte that ends a number, true, false or null; JSON.parse judges the rest.
    for (; i < n; i++) {
      const byte = bytes[i];
      if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte)) return i;
    }
    return -1;
  }
  let depth = state.depth;
  let inString = state.inString;
  if (depth === 0 && !inString) {
    // The first byte opens the string, object or array.
    if (kind === "string") inString = true;
    else depth = 1;
    i++;
  } else if (state.escaped) {
    // The byte after a backslash that ended the last chunk.
    state.escaped = false;
    i++;
  }
  if (inString) {
    i = skipString(bytes, i, n);
    if (i < 0) return suspend(state, depth, i);
    inString = false;
    if (kind === "string") return done(state, i);
  }
  while (i < n) {
    const byte = bytes[i++];
    if (byte === QUOTE) {
      i = skipString(bytes, i, n);
      if (i < 0) return suspend(state, depth, i);
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return done(state, i);
  }
  state.depth = depth;
  state.inString = false;
  return -1;
}

/** Past the closing quote of a string; or, when the chunk ends first, -1 (-2: just after a backslash). */
function skipString(bytes: Uint8Array, at: number, n: number): number {
  let i = at;
  while (i < n) {
    const byte = bytes[i++];
    if (byte === QUOTE) return i;
    if (byte === BACKSLASH) i++;
  }
  return i > n ? -2 : -1;
}

/** The chunk ended inside a string: where the scan goes on. */
function suspend(state: Text, depth: number, code: number): number {
  state.depth = depth;
  state.inString = true;
  state.escaped = code === -2;
  return -1;
}

function done(state: Text, end: number): number {
  state.depth = 0;
  state.inString = false;
  return end;
}

function assign(object: Record<string, unknown>, key: string, value: unknown, at: number): void {
  if (key === "__proto__") throw new JsonBodyError(`${POISON} at position ${at}`);
  object[key] = value;
}

/** secure-json-parse's rule for an object whose keys this parser set: no `constructor.prototype`. */
function checkConstructor(object: Record<string, unknown>): void {
  if (!Object.prototype.hasOwnProperty.call(object, "constructor")) return;
  const value = object.constructor as unknown;
  if (value !== null && typeof value === "object" && Object.prototype.hasOwnProperty.call(value, "prototype")) {
    throw new JsonBodyError(POISON);
  }
}

/**
 * `JSON.parse` of one text, with the poisoning check where the text could hold such a key (a
 * substring search, much faster than secure-json-parse's patterns on long text).
 */
export function parseText(text: string, at = 0): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JsonBodyError(at > 0 ? `${(error as Error).message} (in the text ending at position ${at})` : (error as Error).message);
  }
  if (value !== null && typeof value === "object" && mayPoison(text)) {
    try {
      secureJson.scan(value, { protoAction: "error", constructorAction: "error" });
    } catch (error) {
      throw new JsonBodyError((error as Error).message);
    }
  }
  return value;
}

/**
 * A quoted word with any of its characters written as a `\uXXXX` escape. Case-insensitive: an
 * odd spelling it also matches only costs a scan.
 */
function quotedEscapable(word: string): RegExp {
  const characters = Array.from(word, (c) => `(?:${c}|\\\\u${c.charCodeAt(0).toString(16).padStart(4, "0")})`);
  return new RegExp(`"${characters.join("")}"`, "i");
}

const ESCAPED_PROTO = quotedEscapable("__proto__");
const ESCAPED_CONSTRUCTOR = quotedEscapable("constructor");
/** For test/regex-safety.test.ts: these run on request text. */
export const POISON_PATTERNS: readonly RegExp[] = [ESCAPED_PROTO, ESCAPED_CONSTRUCTOR];

/**
 * Whether the text may hold a `__proto__` or `constructor` key. Without a `\u` escape anywhere a
 * key can only be spelled literally, and a substring search settles it; with one, the patterns do.
 */
function mayPoison(text: string): boolean {
  if (text.includes("\\u")) return ESCAPED_PROTO.test(text) || ESCAPED_CONSTRUCTOR.test(text);
  // Without the quotes: a needle that starts with a rarer byte is found (or not) faster.
  return text.includes("__proto__") || text.includes("constructor");
}
