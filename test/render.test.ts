/**
 * `llmsafespace-hooks render`: for every example, the children it prints are the ones the sync
 * hook answers over HTTP for the same objects; and every mistake exits non-zero with a message.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import request from "supertest";
import { parseAllDocuments, stringify } from "yaml";
import { main } from "../src/render/cli.js";
import { testApp } from "./support/app.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const EXAMPLES = join(REPO, "examples");

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string };
}

function documents(text: string): Resource[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Resource | null)
    .filter((value): value is Resource => value !== null);
}

async function run(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    stdin: () => stdin,
  });
  return { code, stdout, stderr };
}

const RUNTIME = `apiVersion: llmsafespace.dev/v1
kind: RuntimeEnvironment
metadata: {name: python-3.10}
spec: {image: ghcr.io/llmsafespace/runtime-python:3.10, language: python}
`;
const SANDBOX = `apiVersion: llmsafespace.dev/v1
kind: Sandbox
metadata: {name: demo, namespace: team-a}
spec: {runtime: "python:3.10"}
`;

describe("render", () => {
  const exampleFiles = existsSync(EXAMPLES) ? readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).sort() : [];
  const examples = exampleFiles.flatMap((file) => documents(readFileSync(join(EXAMPLES, file), "utf8")));
  const related = examples.filter((o) => o.kind === "RuntimeEnvironment" || o.kind === "SandboxProfile");
  const parents = examples.filter((o) => o.kind === "Sandbox" || o.kind === "WarmPool");

  it("render › the examples › hold Sandboxes and a WarmPool to render", () => {
    assert.ok(parents.some((p) => p.kind === "Sandbox"), `no Sandbox in ${EXAMPLES}`);
    assert.ok(parents.some((p) => p.kind === "WarmPool"), `no WarmPool in ${EXAMPLES}`);
  });

  for (const parent of parents) {
    it(`render › example ${parent.kind} ${parent.metadata.name} › prints the children the sync hook answers`, async () => {
      // A fixed uid on both sides: render makes one up for objects that have none.
      const withUid = { ...parent, metadata: { ...parent.metadata, uid: "11111111-2222-3333-4444-555555555555" } };
      const stream = [...related, withUid].map((object) => stringify(object)).join("---\n");
      const rendered = await run(["render", "-f", "-"], stream);
      assert.equal(rendered.code, 0, rendered.stderr);

      const relatedMap: Record<string, Record<string, Resource>> = {};
      for (const object of related) (relatedMap[`${object.kind}.${object.apiVersion}`] ??= {})[object.metadata.name] = object;
      const hook = parent.kind === "Sandbox" ? "/sandbox/sync" : "/warmpool/sync";
      const sync = async (children: Record<string, Record<string, Resource>>) => {
        const answer = await request(testApp())
          .post(hook)
          .set("content-type", "application/json")
          .send(JSON.stringify({ parent: withUid, children, related: relatedMap }));
        assert.equal(answer.status, 200, answer.text);
        return (answer.body as { children: Resource[] }).children;
      };
      // The answer once the first answer's children exist: the pod follows its ServiceAccount.
      const observed: Record<string, Record<string, Resource>> = {};
      for (const child of await sync({})) (observed[`${child.kind}.${child.apiVersion}`] ??= {})[child.metadata.name] = child;
      const settled = await sync(observed);
      assert.deepStrictEqual(documents(rendered.stdout), settled);
      assert.ok(settled.some((child) => child.kind === "Pod"), "rendered no pod");
    });
  }

  const failures: [string, string[], string, RegExp][] = [
    ["a file that is not YAML", ["-f", "-"], "kind: [", /is not YAML/],
    ["an unknown kind", ["-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", /v1\/ConfigMap x is not a kind render knows/],
    ["a Sandbox without its RuntimeEnvironment", ["-f", "-"], SANDBOX, /no RuntimeEnvironment python-3.10 was given; add its file with -f/],
    ["no Sandbox or WarmPool", ["-f", "-"], RUNTIME, /Nothing to render/],
    ["an invalid Sandbox", ["-f", "-"], `${RUNTIME}---\n${SANDBOX.replace("python:3.10\"}", "python:3.10\", timeout: 0}")}`, /spec\.timeout: must be >= 1/],
    ["a file that does not exist", ["-f", "/nonexistent/sandbox.yaml"], "", /cannot read \/nonexistent\/sandbox.yaml: ENOENT/],
  ];
  for (const [scenario, args, stdin, message] of failures) {
    it(`render › ${scenario} › exits 1 and says what to fix`, async () => {
      const result = await run(["render", ...args], stdin);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, message);
    });
  }

  it("render › no file or an unknown command › usage, exit 2", async () => {
    assert.equal((await run(["render"])).code, 2);
    assert.equal((await run(["explode"])).code, 2);
  });

  it("render › the installed command › runs from bin/ and prints YAML", () => {
    const result = spawnSync(process.execPath, [join(REPO, "bin", "llmsafespace-hooks.js"), "render", "-f", "-"], {
      input: `${RUNTIME}---\n${SANDBOX}`,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const kinds = documents(result.stdout).map((o) => o.kind);
    assert.deepEqual(kinds.filter((k) => k === "Pod"), ["Pod"]);
    assert.ok(kinds.includes("NetworkPolicy"));
  });
});
