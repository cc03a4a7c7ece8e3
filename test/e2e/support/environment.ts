/**
 * Everything the real-Metacontroller tier runs, as a platform engineer's cluster would have it,
 * on this machine:
 *
 * - etcd and kube-apiserver with every default admission plugin on, plus
 *   OwnerReferencesPermissionEnforcement (OpenShift and many hardened clusters turn it on);
 * - kube-controller-manager with the garbage collector and the serviceaccount, namespace and
 *   pvc-protection controllers;
 * - the real Metacontroller (`../shared/tools/metacontroller/metacontroller` or
 *   `METACONTROLLER_BIN`), its own CRDs, and its arguments as the README's install guide sets
 *   them: Metacontroller's StatefulSet with `metacontroller/components/metacontroller-rate-limits`;
 * - this project's CRDs (`kubectl apply -k crds/`) and `kubectl kustomize metacontroller/` with
 *   only the webhook URLs pointed at the local hook server;
 * - the hook server as `npm start` runs it (`node dist/src/server/main.js`), with a token of the
 *   `llmsafespace-hooks` ServiceAccount, so exactly the RBAC in metacontroller/;
 * - a kubelet stand-in (./kubelet.ts) on one fake node.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { kubeconfig, startCluster, type TestCluster } from "../../integration/support/cluster.js";
import { describeStatus, type KubeObjectLike } from "../../integration/support/kube.js";
import { freePort } from "../../support/ports.js";
import { MANIFESTS, REPO } from "../../support/manifests.js";
import { KubeletStandIn, type KubeletOptions } from "./kubelet.js";

export const REFERENCE = join(REPO, "..", "shared", "reference", "metacontroller-v4.17.2");
/** The kustomize component of Metacontroller's arguments that the README's install guide ships. */
export const RATE_LIMITS_COMPONENT = join(MANIFESTS, "components", "metacontroller-rate-limits");

/** The kube-controller-manager controllers a Sandbox's life touches. */
const CONTROLLERS = [
  "garbage-collector-controller",
  "serviceaccount-controller",
  "namespace-controller",
  "persistentvolumeclaim-protection-controller",
];

/** Where the Metacontroller binary is, or why the tier cannot run. */
export function metacontrollerBinary(): { path: string } | { missing: string } {
  const fromEnv = process.env.METACONTROLLER_BIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    return existsSync(fromEnv) ? { path: resolve(fromEnv) } : { missing: `METACONTROLLER_BIN=${fromEnv} does not exist` };
  }
  const shared = join(REPO, "..", "shared", "tools", "metacontroller", "metacontroller");
  return existsSync(shared)
    ? { path: shared }
    : { missing: `no Metacontroller binary at ${shared}, and METACONTROLLER_BIN is not set` };
}

/** One line Metacontroller logged, as it logs them: a JSON object per line. */
export interface LogLine {
  /** When this process read the line. */
  at: number;
  level: string;
  msg: string;
  text: string;
}

export interface EnvironmentOptions {
  kubelet?: KubeletOptions;
  /** Metacontroller arguments to use instead of the install guide's, by flag name (`--workers`). */
  metacontrollerArgs?: Record<string, string>;
}

export interface Environment {
  cluster: TestCluster;
  kubelet: KubeletStandIn;
  hooks: HookServer;
  metacontroller: Metacontroller;
  /** Runs the cluster's kubectl as the admin, from the repository root. */
  kubectl(args: readonly string[], input?: string): Promise<CommandResult>;
  stop(): Promise<void>;
}

export async function startEnvironment(binary: string, options: EnvironmentOptions = {}): Promise<Environment> {
  const cluster = await startCluster({
    controllers: CONTROLLERS,
    enableAdmissionPlugins: ["OwnerReferencesPermissionEnforcement"],
  });
  const stops: (() => Promise<void> | void)[] = [() => cluster.stop()];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    // Never spawnSync: the kubelet stand-in runs in this process and must keep working meanwhile.
    const kubectl = (args: readonly string[], input?: string) => run(cluster.kubectl, [`--kubeconfig=${cluster.kubeconfigPath}`, ...args], input);
    const must = async (args: readonly string[], input?: string) => {
      const result = await kubectl(args, input);
      if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
      return result.stdout;
    };

    // The cluster's own parts: Metacontroller's CRDs, a RuntimeClass for `high` (README: "What
    // you need"), and the project's CRDs as the install guide applies them.
    await must(["apply", "--server-side", "-f", join(REFERENCE, "metacontroller-crds-v1.yaml")]);
    await must(["apply", "-f", "-"], JSON.stringify({ apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", metadata: { name: "gvisor" }, handler: "runsc" }));
    await must(["apply", "-k", "crds/"]);
    await must(["wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=llmsafespace", "--timeout=60s"]);
    // The garbage collector watches new kinds from its next discovery, within 30 s in any
    // cluster; a cluster installed long ago has long done so. Restarted, it watches them at once.
    await cluster.restartControllerManager();

    const kubelet = new KubeletStandIn(cluster.client, cluster.kubeconfigPath, options.kubelet);
    await kubelet.start();
    stops.push(() => { kubelet.stop(); });

    // The hook server first, so that Metacontroller's first calls find it.
    const hookPort = await freePort();
    await must(["apply", "-f", "-"], installManifests(await must(["kustomize", "metacontroller/"]), `http://127.0.0.1:${hookPort}`));
    const token = await serviceAccountToken(cluster, "llmsafespace", "llmsafespace-hooks");
    const hooksKubeconfig = join(cluster.dir, "hooks-kubeconfig");
    writeFileSync(hooksKubeconfig, kubeconfig(cluster.server, token, cluster.ca), { mode: 0o600 });
    const hooks = new HookServer(hookPort, hooksKubeconfig, join(cluster.dir, "hooks.log"));
    await hooks.start();
    stops.push(() => hooks.stop());

    const args = metacontrollerArgs(
      await must(["kustomize", REFERENCE]),
      await must(["kustomize", "--load-restrictor=LoadRestrictionsNone", componentOverlay(cluster.dir)]),
    );
    const metacontroller = new Metacontroller(binary, cluster.kubeconfigPath, { ...args, ...options.metacontrollerArgs }, join(cluster.dir, "metacontroller.log"));
    await metacontroller.start();
    stops.push(() => metacontroller.stop());

    return { cluster, kubelet, hooks, metacontroller, kubectl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `kubectl kustomize metacontroller/` with only the webhook URLs pointed at `base`. */
function installManifests(built: string, base: string): string {
  const objects = parseAllDocuments(built).map((document) => document.toJS() as KubeObjectLike);
  for (const object of objects) {
    if (object.kind !== "CompositeController") continue;
    const hooks = (object.spec as { hooks: Record<string, { webhook: { url: string } }> }).hooks;
    for (const hook of Object.values(hooks)) {
      hook.webhook.url = `${base}${new URL(hook.webhook.url).pathname}`;
    }
  }
  return objects.map((object) => JSON.stringify(object)).join("\n");
}

/**
 * A kustomization as the README tells an operator to write one for Metacontroller: its
 * production manifests (here the copy in shared/reference) with our rate-limits component.
 */
function componentOverlay(dir: string): string {
  const overlay = join(dir, "metacontroller-install");
  mkdirSync(overlay, { recursive: true });
  writeFileSync(
    join(overlay, "kustomization.yaml"),
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      // kustomize takes only relative paths.
      `  - ${relative(overlay, REFERENCE)}`,
      "components:",
      `  - ${relative(overlay, RATE_LIMITS_COMPONENT)}`,
      "",
    ].join("\n"),
  );
  return overlay;
}

/**
 * Metacontroller's arguments from its StatefulSet as the install guide builds it, by flag name.
 * Flags that only make sense in a pod (probe and metrics addresses) are set by the runner.
 * `reference` is the StatefulSet without our component, to check that the component changed it.
 */
export function metacontrollerArgs(reference: string, withComponent: string): Record<string, string> {
  const argsOf = (built: string) => {
    const objects = parseAllDocuments(built).map((document) => document.toJS() as KubeObjectLike);
    const statefulSet = objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === "metacontroller");
    const container = (statefulSet?.spec as { template: { spec: { containers: { name: string; args?: string[] }[] } } } | undefined)
      ?.template.spec.containers.find((c) => c.name === "metacontroller");
    if (container === undefined) throw new Error("The Metacontroller manifests have no StatefulSet metacontroller with a container metacontroller");
    // Go's flag package: the last of a repeated flag wins, as in the pod.
    const args: Record<string, string> = {};
    for (const arg of container.args ?? []) {
      const [flag = "", value = "true"] = arg.split(/=(.*)/s);
      args[flag.replace(/^-+/, "--")] = value;
    }
    return args;
  };
  const base = argsOf(reference);
  const tuned = argsOf(withComponent);
  if (JSON.stringify(base) === JSON.stringify(tuned)) throw new Error(`${RATE_LIMITS_COMPONENT} changed no argument of Metacontroller`);
  return tuned;
}

/** A bound token of a ServiceAccount (TokenRequest), as a pod of it would get. */
async function serviceAccountToken(cluster: TestCluster, namespace: string, name: string): Promise<string> {
  const response = await cluster.client.request<{ status?: { token?: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 24 * 3600 } },
  );
  const token = response.body.status?.token;
  if (response.status !== 201 || token === undefined) {
    throw new Error(`Could not get a token of ServiceAccount ${namespace}/${name}: ${describeStatus(response)}`);
  }
  return token;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, from the repository root, without blocking this process. */
export function run(command: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", fail);
    child.on("close", (code) => {
      done({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.end(input);
  });
}

/** A child process with its output appended to a log file; a line callback for each line. */
function launch(command: string, args: readonly string[], env: NodeJS.ProcessEnv, logFile: string, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(command, args, { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(logFile, { flags: "a" });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream.on("data", (chunk: Buffer) => {
      log.write(chunk);
      if (onLine === undefined) return;
      const lines = (rest + chunk.toString("utf8")).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
  }
  return child;
}

async function terminate(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => { done(); }));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

async function until(what: string, child: ChildProcess, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) while starting`);
    try {
      if (await ready()) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000}s`);
}

/**
 * Errors Metacontroller v4.17.2 logs about a parent that no hook answer causes. Its finalizer
 * removal is not idempotent: when a parent it has just finalized is synced once more from its
 * cache (child deletions queue it again, as when a namespace is deleted), the finalize hook again
 * says `finalized`, the removal finds the object gone, and the sync is logged as failed. Nothing
 * is left behind; the README's troubleshooting table lists it.
 */
export const METACONTROLLER_RACES: readonly RegExp[] = [/can't remove finalizer for (Sandbox|WarmPool) [^:]+: \S+ \\?"[^"\\]+\\?" not found/];

/** The hook server as `npm start` runs it, built beforehand with `npm run build`. */
export class HookServer {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly kubeconfigPath: string,
    private readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const env = { PATH: process.env.PATH, PORT: String(this.port), KUBECONFIG: this.kubeconfigPath, LOG_LEVEL: "info" };
    this.child = launch(process.execPath, [join(REPO, "dist", "src", "server", "main.js")], env, this.logFile);
    const child = this.child;
    await until("the hook server", child, async () => (await fetch(`${this.url}/readyz`)).ok);
  }

  /** SIGTERM, as Kubernetes stops a pod: the server drains and exits. */
  async stop(): Promise<void> {
    await terminate(this.child);
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The server's /metrics text. */
  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`)).text();
  }
}

/** The real Metacontroller, its JSON log kept line by line. */
export class Metacontroller {
  private child: ChildProcess | undefined;
  readonly lines: LogLine[] = [];
  metricsPort = 0;

  constructor(
    private readonly binary: string,
    private readonly kubeconfigPath: string,
    readonly args: Record<string, string>,
    private readonly logFile: string,
  ) {}

  async start(): Promise<void> {
    this.metricsPort = await freePort();
    const healthPort = await freePort();
    const args = [
      ...Object.entries(this.args).map(([flag, value]) => `${flag}=${value}`),
      `--kubeconfig=${this.kubeconfigPath}`,
      `--metrics-address=127.0.0.1:${this.metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
    ];
    this.child = launch(this.binary, args, { PATH: process.env.PATH }, this.logFile, (text) => {
      if (text.trim() === "") return;
      let parsed: { level?: unknown; msg?: unknown } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // a line that is not JSON (a Go panic, say) counts as an error
        parsed = { level: "error", msg: text };
      }
      const { level, msg } = parsed;
      this.lines.push({ at: Date.now(), level: typeof level === "string" ? level : "", msg: typeof msg === "string" ? msg : "", text });
    });
    const child = this.child;
    await until("Metacontroller", child, async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok);
  }

  async stop(): Promise<void> {
    await terminate(this.child);
    this.child = undefined;
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
  }

  /** Error lines about this project's parents since `since` (a Date.now()), but for {@link METACONTROLLER_RACES}. */
  errorsAboutParents(since = 0): LogLine[] {
    return this.parentErrors(since).filter((line) => !METACONTROLLER_RACES.some((race) => race.test(line.text)));
  }

  /** The error lines about our parents that {@link METACONTROLLER_RACES} accounts for. */
  knownRaces(since = 0): LogLine[] {
    return this.parentErrors(since).filter((line) => METACONTROLLER_RACES.some((race) => race.test(line.text)));
  }

  private parentErrors(since: number): LogLine[] {
    return this.lines.filter(
      (line) => line.at >= since && line.level === "error" && /Sandbox|WarmPool|sandboxes|warmpools|llmsafespace/.test(line.text),
    );
  }
}
