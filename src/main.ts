/**
 * The hook server's entry point: read the configuration, build the dependencies, listen, and
 * drain on SIGTERM. Everything that decides anything lives elsewhere.
 */
import type { Server } from "node:http";
import { createApp } from "./app.js";
import { disabledClaimer } from "./claimer.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { createLogger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { RequestValidators } from "./validation.js";

/** Longest a drain may take before the process exits anyway; below Kubernetes' default 30 s grace. */
const DRAIN_TIMEOUT_MS = 25_000;

function start(config: Config): void {
  const logger = createLogger(config.logLevel);
  let ready = false;
  const app = createApp({
    config,
    validators: new RequestValidators(),
    claimer: disabledClaimer,
    clock: () => new Date(),
    logger,
    metrics: createMetrics(),
    isReady: () => ready,
  });
  const server: Server = app.listen(config.port, () => {
    ready = true;
    logger.info({ port: config.port, claiming: "disabled" }, "Started hook server");
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
