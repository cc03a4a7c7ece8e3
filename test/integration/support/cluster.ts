/**
 * A real etcd and kube-apiserver on loopback, started and stopped by the test suite itself, in
 * the manner of controller-runtime's envtest, and for the real-Metacontroller tier a real
 * kube-controller-manager beside them. No kubelet runs: a test that needs a Ready pod writes the
 * pod's status through the status subresource (test/e2e/support/kubelet.ts does it as a kubelet
 * would).
 *
 * The binaries are built from the Go module proxy by test/cluster/build.sh into a cache outside
 * the repository; the first build takes minutes, later runs reuse it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeClient } from "./kube.js";
import { freePort } from "../../support/ports.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

export interface TestCluster {
  /** `https://127.0.0.1:<port>` */
  server: string;
  token: string;
  /** The API server's serving certificate, to trust it. */
  ca: string;
  /** A kubeconfig file for the admin user, for tools and for the hook server. */
  kubeconfigPath: string;
  /** The kubectl built with the cluster (same Kubernetes release), e.g. for `kubectl kustomize`. */
  kubectl: string;
  client: KubeClient;
  /** The folder of this cluster's logs and files (gone after `stop`). */
  dir: string;
  /** Stops kube-apiserver (etcd keeps the state), waits `downMs`, starts it again on its port. */
  restartApiServer(downMs?: number): Promise<void>;
  /** Stops kube-controller-manager and starts it again (its controllers start from a fresh discovery). */
  restartControllerManager(): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /**
   * Runs kube-controller-manager with these controllers and keeps every default admission plugin
   * of kube-apiserver on, as a real cluster does. Without it (the API-server tier) the
   * ServiceAccount plugin is off: nothing would create the `default` ServiceAccount it insists on.
   */
  controllers?: readonly string[];
  /** Admission plugins to turn on besides kube-apiserver's defaults. @default none */
  enableAdmissionPlugins?: readonly string[];
}

/** Builds (or finds) the binaries (etcd, kube-apiserver, kubectl) and returns the folder that holds them. */
export function clusterBinaries(): string {
  const result = spawnSync("bash", [join(REPO, "test", "cluster", "build.sh")], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (result.status !== 0) {
    throw new Error(`test/cluster/build.sh failed (exit ${result.status ?? result.signal ?? "?"}); see its output above`);
  }
  const dir = result.stdout.trim().split("\n").pop() ?? "";
  for (const binary of ["etcd", "kube-apiserver", "kube-controller-manager", "kubectl"]) {
    if (!existsSync(join(dir, binary))) throw new Error(`test/cluster/build.sh named ${dir}, which has no ${binary}`);
  }
  return dir;
}

/**
 * Starts etcd and kube-apiserver on free loopback ports, and kube-controller-manager when asked;
 * resolves once `/readyz` says ok (and, with the controller manager, once the `default`
 * ServiceAccount exists, the sign that its controllers run).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const bin = clusterBinaries();
  const dir = mkdtempSync(join(tmpdir(), "llmsafespace-cluster-"));
  const processes: ChildProcess[] = [];
  // A crashed test run must not leave an etcd holding a port: kill synchronously on exit.
  const onExit = () => {
    for (const child of processes) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  const stop = async () => {
    process.removeListener("exit", onExit);
    for (const child of [...processes].reverse()) await terminate(child);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const etcdClient = await onFreePorts(2, async ([client = 0, peer = 0]) => {
      const etcd = launch(join(bin, "etcd"), [
        // A data directory per try: one that failed may have recorded other peer URLs.
        `--data-dir=${join(dir, `etcd-${client}`)}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=default=http://127.0.0.1:${peer}`,
        "--unsafe-no-fsync",
      ], join(dir, "etcd.log"));
      processes.push(etcd);
      await waitFor("etcd", etcd, join(dir, "etcd.log"), async () => {
        const response = await fetch(`http://127.0.0.1:${client}/health`);
        return response.ok && ((await response.json()) as { health?: string }).health === "true";
      });
      return client;
    });

    const token = randomBytes(24).toString("hex");
    writeFileSync(join(dir, "tokens.csv"), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const certDir = join(dir, "certs");
    const apiserverArgs = (apiPort: number) => [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      // Without a controller manager nothing creates the `default` ServiceAccount; PodSecurity
      // admission, which the API-server tier is about, stays on either way.
      ...(options.controllers === undefined ? ["--disable-admission-plugins=ServiceAccount"] : []),
      ...(options.enableAdmissionPlugins !== undefined && options.enableAdmissionPlugins.length > 0
        ? [`--enable-admission-plugins=${options.enableAdmissionPlugins.join(",")}`]
        : []),
    ];
    let server = "";
    let apiPort = 0;
    let ca = "";
    let apiserver: ChildProcess | undefined;
    // Starts kube-apiserver on its port; a restart finds the certificates it made the first time.
    const startApiServer = async () => {
      server = `https://127.0.0.1:${apiPort}`;
      apiserver = launch(join(bin, "kube-apiserver"), apiserverArgs(apiPort), join(dir, "kube-apiserver.log"));
      processes.push(apiserver);
      await waitFor("kube-apiserver", apiserver, join(dir, "kube-apiserver.log"), async () => {
        const certFile = join(certDir, "apiserver.crt");
        if (!existsSync(certFile)) return false;
        ca = readFileSync(certFile, "utf8");
        const response = await new KubeClient(server, token, ca).request("GET", "/readyz");
        return response.status === 200;
      });
    };
    await onFreePorts(1, async ([port = 0]) => {
      apiPort = port;
      await startApiServer();
    });
    const restartApiServer = async (downMs = 0) => {
      if (apiserver !== undefined) {
        await terminate(apiserver);
        processes.splice(processes.indexOf(apiserver), 1);
      }
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await startApiServer();
    };

    const kubeconfigPath = join(dir, "kubeconfig");
    writeFileSync(kubeconfigPath, kubeconfig(server, token, ca), { mode: 0o600 });
    const client = new KubeClient(server, token, ca);

    let manager: ChildProcess | undefined;
    const startControllerManager = async (controllers: readonly string[]) => {
      manager = launch(join(bin, "kube-controller-manager"), [
        `--kubeconfig=${kubeconfigPath}`,
        `--controllers=${controllers.join(",")}`,
        "--leader-elect=false",
        // Nothing calls it; the controllers need no serving port of their own.
        "--secure-port=0",
      ], join(dir, "kube-controller-manager.log"));
      processes.push(manager);
      // The serviceaccount controller's first work is the `default` ServiceAccount.
      const runs = controllers.includes("serviceaccount-controller");
      await waitFor("kube-controller-manager", manager, join(dir, "kube-controller-manager.log"), async () => {
        if (!runs) return true;
        const response = await client.request("GET", "/api/v1/namespaces/default/serviceaccounts/default");
        return response.status === 200;
      });
    };
    if (options.controllers !== undefined) await startControllerManager(options.controllers);
    const restartControllerManager = async () => {
      if (manager === undefined || options.controllers === undefined) throw new Error("This cluster runs no kube-controller-manager");
      await terminate(manager);
      processes.splice(processes.indexOf(manager), 1);
      await startControllerManager(options.controllers);
    };

    return {
      server,
      token,
      ca,
      dir,
      kubeconfigPath,
      kubectl: join(bin, "kubectl"),
      client,
      restartApiServer,
      restartControllerManager,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Runs `start` on loopback ports the kernel has just handed out, with new ones if a port was
 * taken meanwhile: a released port is free for anyone, and outgoing connections (etcd's
 * clients, the readiness probes) take theirs from the same range.
 */
async function onFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await freePort());
    try {
      return await start(ports);
    } catch (error) {
      if (attempt === attempts || !String(error).includes("address already in use")) throw error;
    }
  }
}

function launch(binary: string, args: string[], logFile: string): ChildProcess {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  // Appended to, so a restarted process keeps the log of the one before.
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return child;
}

async function waitFor(name: string, child: ChildProcess, logFile: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) while starting:\n${tail(logFile)}`);
    }
    try {
      if (await ready()) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${name} was not ready after ${START_TIMEOUT_MS / 1000}s:\n${tail(logFile)}`);
}

function tail(logFile: string, lines = 30): string {
  try {
    return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** A kubeconfig (JSON is YAML) for one bearer token. */
export function kubeconfig(server: string, token: string, ca: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "test", cluster: { server, "certificate-authority-data": Buffer.from(ca).toString("base64") } }],
    users: [{ name: "admin", user: { token } }],
    contexts: [{ name: "test", context: { cluster: "test", user: "admin" } }],
    "current-context": "test",
  });
}
