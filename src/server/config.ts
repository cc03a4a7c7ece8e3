/**
 * The server's configuration: read from the environment in this one place, validated at start,
 * every key with a default. Nothing else reads `process.env`.
 */

import { type FqdnProvider, type NetworkConfig, type PodConfig } from "../children/index.js";
import type { ProfileConfig } from "../sandbox/index.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Where the warm-pod claimer reaches the Kubernetes API. */
export interface KubeConfigSource {
  /** `KUBECONFIG`, when set. */
  kubeconfigPath?: string;
  /** In a pod: `KUBERNETES_SERVICE_HOST` is set, so the service-account credentials are used. */
  inCluster: boolean;
  /** Longest a claim may take before a Sandbox starts cold. @default 2000 */
  claimDeadlineMs: number;
}

/** Who may call the server, and how it is reached. */
export interface AuthConfig {
  /** A file holding the bearer token every hook call must carry (`HOOK_TOKEN_FILE`). @default none: open */
  tokenFile?: string;
  /** Whether `/metrics` needs the token too (`METRICS_REQUIRE_TOKEN`). @default false */
  protectMetrics: boolean;
  /** TLS certificate and key files (`TLS_CERT_FILE`, `TLS_KEY_FILE`): both or neither. @default plain HTTP */
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

export interface Config {
  /** @default 8080 */
  port: number;
  /** @default "info" */
  logLevel: LogLevel;
  /** Largest request body accepted, in bytes. @default 67108864 (64 MiB) */
  bodyLimitBytes: number;
  /**
   * Longest a hook may take before the server answers 503 with Retry-After; below the
   * CompositeControllers' webhook timeout (10 s), so Metacontroller gets an answer, not a
   * timeout. @default 8000
   */
  hookDeadlineMs: number;
  /** How long to keep serving after SIGTERM with /readyz failing, so endpoints drop the pod first. @default 0 */
  shutdownDelayMs: number;
  network: NetworkConfig;
  pod: PodConfig;
  profile: ProfileConfig;
  kube: KubeConfigSource;
  auth: AuthConfig;
}

/** Thrown when the environment holds a value the server cannot use; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const FQDN_PROVIDERS: readonly FqdnProvider[] = ["none", "cilium"];

// Label syntax: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Reads and validates the configuration; throws {@link ConfigError} naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  const oneOf =
    <T extends string>(allowed: readonly T[]) =>
    (raw: string): T | Error => {
      return (allowed as readonly string[]).includes(raw)
        ? (raw as T)
        : new Error(`must be one of ${allowed.join(", ")}`);
    };
  const checked = <T>(name: string, fallback: T, parse: (raw: string) => T | Error): T => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return fallback;
    const parsed = parse(raw.trim());
    if (parsed instanceof Error) {
      problems.push(`${name}=${JSON.stringify(raw)}: ${parsed.message}`);
      return fallback;
    }
    return parsed;
  };
  const config: Config = {
    port: checked("PORT", 8080, integerIn(1, 65535)),
    logLevel: checked("LOG_LEVEL", "info", oneOf(LOG_LEVELS)),
    bodyLimitBytes: checked("BODY_LIMIT_BYTES", 64 * 1024 * 1024, integerIn(1024, 1024 * 1024 * 1024)),
    hookDeadlineMs: checked("HOOK_DEADLINE_MS", 8000, integerIn(100, 60_000)),
    shutdownDelayMs: checked("SHUTDOWN_DELAY_MS", 0, integerIn(0, 60_000)),
    network: {
      apiNamespaceSelector: checked(
        "API_NAMESPACE_SELECTOR",
        { "kubernetes.io/metadata.name": "llmsafespace" },
        parseSelector,
      ),
      apiPodSelector: checked("API_POD_SELECTOR", { app: "llmsafespace", component: "api" }, parseSelector),
      dnsNamespaceSelector: checked(
        "DNS_NAMESPACE_SELECTOR",
        { "kubernetes.io/metadata.name": "kube-system" },
        parseSelector,
      ),
      dnsPodSelector: checked("DNS_POD_SELECTOR", { "k8s-app": "kube-dns" }, parseSelector),
      fqdnProvider: checked("FQDN_PROVIDER", "none", oneOf(FQDN_PROVIDERS)),
    },
    pod: {
      gvisorRuntimeClass: checked("GVISOR_RUNTIME_CLASS", "gvisor", (raw) =>
        DNS_LABEL.test(raw) ? raw : new Error("must be a RuntimeClass name (a DNS-1123 label)"),
      ),
    },
    profile: {
      sharedNamespaces: checked("SHARED_PROFILE_NAMESPACES", [] as string[], parseNamespaces),
    },
    auth: {
      ...optional("tokenFile", env.HOOK_TOKEN_FILE),
      protectMetrics: checked("METRICS_REQUIRE_TOKEN", false, parseBoolean),
      ...optional("tlsCertFile", env.TLS_CERT_FILE),
      ...optional("tlsKeyFile", env.TLS_KEY_FILE),
    },
    kube: {
      ...(env.KUBECONFIG !== undefined && env.KUBECONFIG.trim() !== "" ? { kubeconfigPath: env.KUBECONFIG.trim() } : {}),
      inCluster: env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== "",
      claimDeadlineMs: checked("CLAIM_DEADLINE_MS", 2000, integerIn(100, 30_000)),
    },
  };
  if ((config.auth.tlsCertFile === undefined) !== (config.auth.tlsKeyFile === undefined)) {
    problems.push("TLS_CERT_FILE and TLS_KEY_FILE: set both (to serve HTTPS) or neither");
  }
  if (config.auth.protectMetrics && config.auth.tokenFile === undefined) {
    problems.push("METRICS_REQUIRE_TOKEN=true needs HOOK_TOKEN_FILE, the token to require");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function integerIn(min: number, max: number) {
  return (raw: string): number | Error => {
    if (!/^\d+$/.test(raw)) return new Error(`must be a whole number from ${min} to ${max}`);
    const value = Number(raw);
    return value >= min && value <= max ? value : new Error(`must be from ${min} to ${max}`);
  };
}

/**
 * `key=value,key2=value2` → a matchLabels map. Only equality: a NetworkPolicy peer built from it
 * must mean exactly what the operator wrote.
 */
export function parseSelector(raw: string): Record<string, string> | Error {
  const selector: Record<string, string> = {};
  for (const term of raw.split(",")) {
    const match = /^\s*([^=\s]+)\s*=\s*([^=\s]*)\s*$/.exec(term);
    if (match === null) {
      return new Error(`"${term.trim()}" is not key=value; write a selector like app=llmsafespace,component=api`);
    }
    const [, key = "", value = ""] = match;
    if (!LABEL_NAME.test(key)) return new Error(`"${key}" is not a valid label key`);
    if (!LABEL_VALUE.test(value)) return new Error(`"${value}" is not a valid label value`);
    selector[key] = value;
  }
  return selector;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value.trim() === "" ? {} : ({ [key]: value.trim() } as Partial<Record<K, string>>);
}

function parseBoolean(raw: string): boolean | Error {
  if (raw === "true") return true;
  if (raw === "false") return false;
  return new Error("must be true or false");
}

/** `team-a,platform` → namespace names, each a DNS-1123 label. */
function parseNamespaces(raw: string): string[] | Error {
  const names = raw.split(",").map((name) => name.trim()).filter((name) => name !== "");
  const bad = names.find((name) => !DNS_LABEL.test(name));
  return bad === undefined ? [...new Set(names)].sort() : new Error(`"${bad}" is not a namespace name`);
}

/** The defaults: what `npm start` runs with on a machine with nothing configured. */
export function defaultConfig(): Config {
  return loadConfig({});
}
