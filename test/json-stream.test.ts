/**
 * The incremental body parser (src/json-stream.ts) against `JSON.parse` of the whole text: the
 * same value with keys in the same order for every text `JSON.parse` takes, however the bytes are
 * split into chunks and runs; a refusal for every text it refuses; prototype poisoning refused
 * anywhere, as secure-json-parse refuses it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import secureJson from "secure-json-parse";
import { JsonBodyError, JsonBodyParser } from "../src/json-stream.js";
import { FIXTURES } from "./support/fixtures.js";

const MAPS = new Set(["children", "related"]);

/** Parses `text` fed in chunks of the given sizes (cycled), members parsed in runs of `batch` bytes. */
function parseInChunks(text: string | Buffer, sizes: readonly number[], batch = 64 * 1024): unknown {
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  const parser = new JsonBodyParser(MAPS, batch);
  let index = 0;
  for (let at = 0; at < bytes.length; index++) {
    const size = Math.max(1, sizes[index % sizes.length] ?? 1);
    parser.write(bytes.subarray(at, at + size));
    at += size;
  }
  return parser.end();
}

/** What the hook server did before: secure-json-parse on the whole text. */
function reference(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: secureJson.parse(text, null, { protoAction: "error", constructorAction: "error" }) };
  } catch {
    return { ok: false };
  }
}

function outcome(parse: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    assert.ok(error instanceof JsonBodyError, `threw ${String(error)}`);
    return { ok: false };
  }
}

/** Same outcome; for a value, the same JSON text (so the same keys in the same order). */
function assertSame(text: string, sizes: readonly number[], batch?: number): void {
  const expected = reference(text);
  const actual = outcome(() => parseInChunks(text, sizes, batch));
  assert.equal(actual.ok, expected.ok, `accepted ${String(actual.ok)}, JSON.parse ${String(expected.ok)}: ${text.slice(0, 300)}`);
  if (actual.ok && expected.ok) {
    assert.deepStrictEqual(actual.value, expected.value);
    assert.equal(JSON.stringify(actual.value), JSON.stringify(expected.value));
  }
}

const member = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }));
const group = fc.dictionary(fc.string({ maxLength: 8 }), member, { maxKeys: 6 });
const objectMap = fc.oneof(fc.dictionary(fc.constantFrom("Pod.v1", "Service.v1", "a", ""), group, { maxKeys: 3 }), fc.jsonValue({ maxDepth: 2 }));
const body = fc.record(
  {
    controller: fc.jsonValue({ maxDepth: 2 }),
    parent: fc.jsonValue({ maxDepth: 3 }),
    children: objectMap,
    related: objectMap,
    finalizing: fc.boolean(),
  },
  { requiredKeys: [] },
);
const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });
const layout = fc.constantFrom<[number, string] | undefined>(undefined, [2, ""], [0, ""], [1, "\t"]);

function render(value: unknown, how: [number, string] | undefined): string {
  if (how === undefined) return JSON.stringify(value);
  // Pretty-printed, and with spaces before colons and commas as some encoders write them.
  const text = JSON.stringify(value, null, how[0]);
  return how[1] === "" ? text : text.replaceAll('":', `"${how[1]}:`).replaceAll(",\n", `${how[1]},\n`);
}

describe("the incremental body parser", () => {
  it("json-stream › request-shaped bodies in any chunks and runs › the value JSON.parse gives, keys in order", () => {
    fc.assert(
      fc.property(body, chunkSizes, layout, fc.integer({ min: 1, max: 200 }), (value, sizes, how, batch) => {
        assertSame(render(value, how), sizes, batch);
      }),
      { numRuns: 2000 },
    );
  });

  it("json-stream › any JSON value › the value JSON.parse gives", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), chunkSizes, (value, sizes) => {
        assertSame(JSON.stringify(value), sizes, 1);
      }),
      { numRuns: 1000 },
    );
  });

  it("json-stream › a request-shaped body cut, spliced or with a byte changed › refused exactly when JSON.parse refuses it", () => {
    const edit = fc.record({
      at: fc.nat(),
      cut: fc.nat({ max: 4 }),
      insert: fc.constantFrom("", ",", "}", "{", "]", "[", '"', "\\", ":", " ", "x", "1", "nul", '"a":1', "\\u0041"),
    });
    fc.assert(
      fc.property(body, chunkSizes, fc.array(edit, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 100 }), (value, sizes, edits, batch) => {
        let text = JSON.stringify(value);
        for (const { at, cut, insert } of edits) {
          const where = text.length === 0 ? 0 : at % (text.length + 1);
          text = text.slice(0, where) + insert + text.slice(where + cut);
        }
        assertSame(text, sizes, batch);
      }),
      { numRuns: 3000 },
    );
  });

  it("json-stream › duplicated keys at every level › the last value, in the first place, as JSON.parse", () => {
    const text =
      '{"children":{"Pod.v1":{"a":{"x":1},"b":2,"a":{"x":3}},"Svc":{},"Pod.v1":{"c":4,"a":5}},' +
      '"parent":1,"children2":{"k":1},"parent":{"p":true}}';
    for (const batch of [1, 5, 1000]) for (const size of [1, 3, 7, 1000]) assertSame(text, [size], batch);
  });

  it("json-stream › whitespace, a byte order mark, non-ASCII and escapes › read as JSON.parse reads them", () => {
    const cases = [
      ' \n\t{ "children" : { "Pod.v1" : { "é/ü" : { "n" : "\\u00e9\\"}{[" } , "b" : [ 1 , { } ] } } }\r\n',
      '\uFEFF{"children":{"g":{"k":"\\\\"}}}',
      // A byte order mark only counts as the very first bytes.
      ' \uFEFF{"a":1}',
      '\n\uFEFF[]',
      '\uFEFF\uFEFF{}',
      '{"children":{"g":{"k":"a\\\\\\"b","l":"😀 日本"}}}',
      '{"related":{"RuntimeEnvironment.llmsafespace.dev/v1":{"python-3.10":{"spec":{"image":"x"}}}}}',
      "[]",
      '"just a string"',
      "  42  ",
      "{}",
      '{"children":{}}',
      '{"children":{"g":{}}}',
      '{"children":[{"x":1}]}',
      '{"children":{"g":[1,2]}}',
      '{"children":{"g":{"a":1}}} x',
      '{"children":{"g":{"a":1,}}}',
      '{"children":{"g":{"a" 1}}}',
      '{"children":{"g":{"a":1}}',
      "",
      "   ",
      "\uFEFF",
      '{"a":tru}',
      '{"a":1e5,"b":-0.5,"c":null,"d":false}',
    ];
    for (const text of cases) for (const size of [1, 2, 5, 1 << 16]) for (const batch of [1, 1 << 16]) assertSame(text, [size], batch);
  });

  it("json-stream › a body sent a byte at a time › held in about its own size, not an object per byte", function () {
    this.timeout(30_000);
    const big = "x".repeat(1 << 20);
    const bodies = {
      "a member of a group": JSON.stringify({ children: { "Pod.v1": { a: { s: big } } } }),
      "an outer value": JSON.stringify({ parent: { s: big } }),
      "a body that is not an object": JSON.stringify(big),
    };
    for (const [what, text] of Object.entries(bodies)) {
      const bytes = Buffer.from(text);
      const parser = new JsonBodyParser(MAPS);
      const before = process.memoryUsage();
      for (let at = 0; at < bytes.length; at++) parser.write(bytes.subarray(at, at + 1));
      const after = process.memoryUsage();
      // A view kept per byte costs ~100 bytes of heap each: 100 MiB here. What may grow is the
      // young generation's garbage and the copy of the body itself.
      const grown = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
      assert.ok(grown < 48 << 20, `${what}: ${Math.round(grown / 2 ** 20)} MiB for a 1 MiB body`);
      assert.equal(JSON.stringify(parser.end()), text, what);
    }
  });

  it("json-stream › __proto__ and constructor.prototype keys, plain or escaped, at any depth › refused", () => {
    const poisoned = [
      '{"__proto__":{"polluted":true}}',
      '{"children":{"__proto__":{}}}',
      '{"children":{"Pod.v1":{"__proto__":{"x":1}}}}',
      '{"children":{"Pod.v1":{"a":{"metadata":{"__proto__":{"x":1}}}}}}',
      '{"children":{"Pod.v1":{"a":{"b":1},"\\u005f_proto__":{"x":1}}}}',
      '{"parent":{"spec":{"constructor":{"prototype":{"admin":true}}}}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"children":{"constructor":{"prototype":{}}}}',
      '{"children":{"Pod.v1":{"constructor":{"prototype":1}}}}',
      '{"children":{"g":{"a":{"\\u0063onstructor":{"prototype":1}}}}}',
    ];
    for (const text of poisoned) {
      for (const batch of [1, 1 << 16]) {
        assert.throws(() => parseInChunks(text, [3], batch), JsonBodyError, text);
        assert.throws(() => parseInChunks(text, [1 << 16], batch), JsonBodyError, text);
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    // A constructor that is not an object with a prototype is an ordinary key, as for secure-json-parse.
    assertSame('{"children":{"g":{"constructor":{"name":"x"}}},"constructor":1}', [4], 1);
  });

  it("json-stream › every fixture request › the value JSON.parse gives", () => {
    for (const parent of ["sandbox", "warmpool"]) {
      for (const name of ["standard-minimal", "phase-running-carried-start-time", "at-min-size", "claimed-pods-assigned-names-not-reused"]) {
        let text: string;
        try {
          text = readFileSync(join(FIXTURES, parent, name, "request.json"), "utf8");
        } catch {
          continue;
        }
        for (const size of [1, 100, 4096, 1 << 16]) for (const batch of [1, 500, 1 << 16]) assertSame(text, [size], batch);
      }
    }
  });
});
