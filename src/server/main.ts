/**
 * The hook server's entry point: read the configuration, build the dependencies, listen, and
 * drain on SIGTERM. Everything that decides anything lives elsewhere.
 */
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createApp } from "./app.js";
import { disabledClaimer, disabledRetirer, noRecycling } from "../warm-pool/index.js";
import { ConfigError, loadConfig, type AuthConfig, type Config } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { createMetrics, metricsObserver, type Metrics } from "./metrics.js";
import { Transitions, type TransitionStore } from "./transitions.js";
import { RequestValidators } from "./validation.js";
import type { KubernetesWarmPods } from "../warm-pool/warm-pod-claimer.js";

/** Longest a drain may take before the process exits anyway; below Kubernetes' default 30 s grace. */
const DRAIN_TIMEOUT_MS = 25_000;

/**
 * The API access for claims, retires and transition Events: in a pod, its service account; elsewhere the file
 * KUBECONFIG names; with neither, none — a developer's ~/.kube/config is never picked up
 * unasked, so `npm start` on a laptop cannot claim pods in whatever cluster it points at.
 * The Kubernetes client is loaded only then: it is most of the server's memory at rest (~80 MiB).
 */
async function kubernetes(config: Config, logger: Logger, metrics: Metrics): Promise<{ pods: KubernetesWarmPods; events: TransitionStore } | undefined> {
  const { kubeconfigPath, inCluster, claimDeadlineMs } = config.kube;
  if (kubeconfigPath === undefined && !inCluster) return undefined;
  const [{ KubeConfig }, { KubernetesWarmPods }, { KubernetesEventStore }] = await Promise.all([
    import("@kubernetes/client-node"),
    // The one entry of warm-pool/ besides its index (see there).
    import("../warm-pool/warm-pod-claimer.js"),
    import("./kube-events.js"),
  ]);
  const kubeConfig = new KubeConfig();
  if (kubeconfigPath !== undefined) kubeConfig.loadFromFile(kubeconfigPath);
  else kubeConfig.loadFromCluster();
  return {
    pods: KubernetesWarmPods.fromKubeConfig(kubeConfig, {
      deadlineMs: claimDeadlineMs,
      logger,
      observer: metricsObserver(metrics),
    }),
    // In a pod the hostname is the pod's name: which replica recorded an Event; and which run of it.
    events: KubernetesEventStore.fromKubeConfig(kubeConfig, `${hostname()}-${randomBytes(4).toString("hex")}`),
  };
}

/** The bearer token, read once at start; a token file that cannot be read stops the server. */
function readToken(auth: AuthConfig): string | undefined {
  if (auth.tokenFile === undefined) return undefined;
  let token: string;
  try {
    token = readFileSync(auth.tokenFile, "utf8").trim();
  } catch (error) {
    throw new ConfigError([`HOOK_TOKEN_FILE=${auth.tokenFile}: cannot be read (${(error as Error).message})`]);
  }
  if (token.length < 16) {
    throw new ConfigError([`HOOK_TOKEN_FILE=${auth.tokenFile}: the token is shorter than 16 characters; use e.g. openssl rand -hex 32`]);
  }
  return token;
}

function tlsFiles(auth: AuthConfig): { cert: Buffer; key: Buffer } | undefined {
  if (auth.tlsCertFile === undefined || auth.tlsKeyFile === undefined) return undefined;
  try {
    return { cert: readFileSync(auth.tlsCertFile), key: readFileSync(auth.tlsKeyFile) };
  } catch (error) {
    throw new ConfigError([`TLS_CERT_FILE / TLS_KEY_FILE: cannot be read (${(error as Error).message})`]);
  }
}

async function start(config: Config): Promise<void> {
  const token = readToken(config.auth);
  const tls = tlsFiles(config.auth);
  const logger = createLogger(config.logLevel);
  const metrics = createMetrics();
  const kube = await kubernetes(config, logger, metrics);
  const pods = kube?.pods;
  const clock = () => new Date();
  const transitions = new Transitions({ metrics, clock, logger, ...(kube !== undefined ? { store: kube.events } : {}) });
  let ready = false;
  // Hook calls answered, and any a shutdown cut off: the exit log says whether draining worked.
  const calls = { answered: 0, cutOff: 0 };
  const app = createApp({
    config,
    validators: new RequestValidators(),
    claimer: pods ?? disabledClaimer,
    retirer: pods ?? disabledRetirer,
    recycler: pods ?? noRecycling,
    clock,
    logger,
    metrics,
    transitions,
    isReady: () => ready,
    onHookDone: (answered) => {
      if (answered) calls.answered++;
      else calls.cutOff++;
    },
    ...(token !== undefined ? { token } : {}),
  });
  // A request that has not fully arrived within the hook deadline gets a 408: Metacontroller
  // has given up on it by then, and a body trickling in would hold its connection and memory.
  const timeouts = { requestTimeout: config.hookDeadlineMs, headersTimeout: config.hookDeadlineMs, connectionsCheckingInterval: 1000 };
  const server: Server = tls === undefined ? createHttpServer(timeouts, app) : createHttpsServer({ ...tls, ...timeouts }, app);
  server.listen(config.port, () => {
    ready = true;
    logger.info(
      {
        port: config.port,
        tls: tls !== undefined,
        authentication: token !== undefined ? "bearer" : "none",
        claiming: pods === undefined ? "disabled" : config.kube.inCluster && config.kube.kubeconfigPath === undefined ? "in-cluster" : "kubeconfig",
      },
      "Started hook server",
    );
  });
  server.on("error", (error) => {
    logger.fatal({ err: error, port: config.port }, "Failed to listen");
    process.exit(1);
  });

  let draining = false;
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    // While draining, each answer closes its connection, so clients do not reuse it.
    if (draining) res.setHeader("Connection", "close");
  });
  const drain = (signal: string) => {
    if (draining) return;
    draining = true;
    ready = false;
    logger.info({ signal, delayMs: config.shutdownDelayMs }, "Draining: /readyz fails from now on");
    // Keep serving a moment with /readyz failing: Kubernetes removes the pod from the Service's
    // endpoints asynchronously, and requests routed meanwhile must still be answered.
    setTimeout(() => { close(signal); }, config.shutdownDelayMs).unref();
  };
  const close = (signal: string) => {
    logger.info({ signal }, "Stopped accepting connections");
    server.close(() => {
      // The Events of transitions the last answers recorded, so that they are counted.
      void transitions.settled().then(() => {
        logger.info({ signal, ...calls }, "Stopped hook server");
        process.exit(calls.cutOff === 0 ? 0 : 1);
      });
    });
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn({ signal, timeoutMs: DRAIN_TIMEOUT_MS }, "Exited before in-flight requests finished");
      process.exit(1);
    }, DRAIN_TIMEOUT_MS).unref();
  };
  process.on("SIGTERM", drain);
  process.on("SIGINT", drain);
}

try {
  await start(loadConfig(process.env));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`llmsafespace-hooks: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
