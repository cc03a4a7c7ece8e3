#!/usr/bin/env node
// The llmsafespace-hooks command: the compiled CLI when there is a build (npm run build, or an
// installed package); in a checkout without one, the TypeScript itself through tsx.
import { existsSync } from "node:fs";

const built = new URL("../dist/src/render/cli.js", import.meta.url);
const source = new URL("../src/render/cli.ts", import.meta.url);
if (!existsSync(built)) {
  const { register } = await import("tsx/esm/api");
  register();
}
const { main } = await import(existsSync(built) ? built.href : source.href);
const { readFileSync } = await import("node:fs");
process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: () => readFileSync(0, "utf8"),
});
