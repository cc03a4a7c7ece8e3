/**
 * The hook server's entry point: read the configuration, build the dependencies, listen, and
 * drain on SIGTERM. Everything that decides anything lives elsewhere.
 */
import type { Server } from "node:http";
import { createApp } from "./app.js";
import { KubeConfig } from "@kubernetes/client-node";
import { disabledClaimer, disabledRetirer, noRecycling } from "./claimer.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { RequestValidators } from "./validation.js";
import { KubernetesWarmPods, metricsObserver } from "./warm-pod-claimer.js";

/** Longest a drain may take before the process exits anyway; below Kubernetes' default 30 s grace. */
const DRAIN_TIMEOUT_MS = 25_000;

/**
 * The API access for claims and retires: in a pod, its service account; elsewhere the file
 * KUBECONFIG names; with neither, none — a developer's ~/.kube/config is never picked up
 * unasked, so `npm start` on a laptop cannot claim pods in whatever cluster it points at.
 */
function warmPods(config: Config, logger: Logger, metrics: Metrics): KubernetesWarmPods | undefined {
  const { kubeconfigPath, inCluster, claimDeadlineMs } = config.kube;
  if (kubeconfigPath === undefined && !inCluster) return undefined;
  const kubeConfig = new KubeConfig();
  if (kubeconfigPath !== undefined) kubeConfig.loadFromFile(kubeconfigPath);
  else kubeConfig.loadFromCluster();
  return KubernetesWarmPods.fromKubeConfig(kubeConfig, {
    deadlineMs: claimDeadlineMs,
    logger,
    observer: metricsObserver(metrics),
  });
}

function start(config: Config): void {
  const logger = createLogger(config.logLevel);
  const metrics = createMetrics();
  const pods = warmPods(config, logger, metrics);
  let ready = false;
  const app = createApp({
    config,
    validators: new RequestValidators(),
    claimer: pods ?? disabledClaimer,
    retirer: pods ?? disabledRetirer,
    recycler: pods ?? noRecycling,
    clock: () => new Date(),
    logger,
    metrics,
    isReady: () => ready,
  });
  const server: Server = app.listen(config.port, () => {
    ready = true;
    logger.info(
      { port: config.port, claiming: pods === undefined ? "disabled" : config.kube.inCluster && config.kube.kubeconfigPath === undefined ? "in-cluster" : "kubeconfig" },
      "Started hook server",
    );
  });
  server.on("error", (error) => {
    logger.fatal({ err: error, port: config.port }, "Failed to listen");
    process.exit(1);
  });

  const drain = (signal: string) => {
    if (!ready) return;
    ready = false;
    logger.info({ signal }, "Draining: stopped accepting connections");
    server.close(() => {
      logger.info({ signal }, "Stopped hook server");
      process.exit(0);
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
  start(loadConfig(process.env));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`llmsafespace-hooks: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
