/**
 * The `llmsafespace-hooks` command. `render` prints, as YAML, the children the sync hook would
 * answer for the Sandboxes and WarmPools in the given files — with no cluster.
 */
import { readFileSync } from "node:fs";
import { disabledClaimer } from "../warm-pool/index.js";
import { ConfigError, loadConfig } from "../server/index.js";
import { createLogger } from "../server/index.js";
import { createMetrics } from "../server/index.js";
import { RenderError, render, type RenderFile } from "./render.js";
import { RequestValidators } from "../server/index.js";

const USAGE = `Usage: llmsafespace-hooks render -f FILE [-f FILE …]

Prints the children (Pods, Services, ServiceAccounts, NetworkPolicies, PVCs) that the sync hook
would produce for every Sandbox and WarmPool in the files, as YAML, without a cluster. Give the
RuntimeEnvironments (and SandboxProfiles) they name in the same or other files. FILE may be -
for standard input. The hook server's environment variables (FQDN_PROVIDER, …) apply.`;

/** Runs the command; resolves to the exit code. */
export async function main(argv: readonly string[], io: { stdout: (text: string) => void; stderr: (text: string) => void; stdin: () => string }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    io.stdout(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== "render") {
    io.stderr(`llmsafespace-hooks: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  const names: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if ((arg === "-f" || arg === "--filename") && rest[i + 1] !== undefined) names.push(rest[++i] ?? "");
    else if (arg?.startsWith("--filename=") === true) names.push(arg.slice("--filename=".length));
    else {
      io.stderr(`llmsafespace-hooks render: unexpected argument "${arg ?? ""}"\n\n${USAGE}\n`);
      return 2;
    }
  }
  if (names.length === 0) {
    io.stderr(`llmsafespace-hooks render: give at least one file with -f\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const files: RenderFile[] = names.map((name) => ({ name, text: name === "-" ? io.stdin() : readText(name) }));
    const config = loadConfig(process.env);
    const output = await render(files, {
      config,
      validators: new RequestValidators(),
      claimer: disabledClaimer,
      clock: () => new Date(),
      logger: createLogger("silent"),
      metrics: createMetrics({ processMetrics: false }),
    });
    io.stdout(output);
    return 0;
  } catch (error) {
    if (error instanceof RenderError || error instanceof ConfigError) {
      io.stderr(`llmsafespace-hooks render: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function readText(name: string): string {
  try {
    return readFileSync(name, "utf8");
  } catch (error) {
    throw new RenderError(`cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
