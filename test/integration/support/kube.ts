/**
 * A small raw client for the test API server. Raw on purpose: client-node's typed clients
 * re-serialise objects through their model classes (which rename wire fields such as a
 * NetworkPolicy's `from`), and these tests must send the exact JSON the hooks produce.
 */
import { request as httpsRequest } from "node:https";

export interface KubeResponse<T = unknown> {
  status: number;
  body: T;
  /** `Warning` headers: what the server accepted but flags (deprecated or unknown fields…). */
  warnings: string[];
}

/** A Kubernetes `Status` error body. */
export interface KubeStatus {
  kind?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

export interface KubeObjectLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Plural resource names of the kinds the tests send. */
const RESOURCES: Record<string, string> = {
  Pod: "pods",
  Service: "services",
  ServiceAccount: "serviceaccounts",
  PersistentVolumeClaim: "persistentvolumeclaims",
  Namespace: "namespaces",
  Node: "nodes",
  NetworkPolicy: "networkpolicies",
  RuntimeClass: "runtimeclasses",
  CustomResourceDefinition: "customresourcedefinitions",
  Sandbox: "sandboxes",
  WarmPool: "warmpools",
  RuntimeEnvironment: "runtimeenvironments",
  SandboxProfile: "sandboxprofiles",
  CompositeController: "compositecontrollers",
  PrometheusRule: "prometheusrules",
  ServiceMonitor: "servicemonitors",
  DecoratorController: "decoratorcontrollers",
  Deployment: "deployments",
  PodDisruptionBudget: "poddisruptionbudgets",
  ClusterRole: "clusterroles",
  ClusterRoleBinding: "clusterrolebindings",
  Role: "roles",
  RoleBinding: "rolebindings",
  Secret: "secrets",
  ConfigMap: "configmaps",
};

export class KubeClient {
  constructor(
    readonly server: string,
    private readonly token: string,
    private readonly ca: string,
  ) {}

  request<T = unknown>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<KubeResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${this.server}${path}`,
        {
          method,
          ca: this.ca,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: "application/json",
            ...(payload !== undefined ? { "content-type": contentType, "content-length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // plain-text answers such as /readyz
            }
            const header = res.headers.warning;
            const warnings = header === undefined ? [] : Array.isArray(header) ? header : [header];
            resolve({ status: res.statusCode ?? 0, body: parsed as T, warnings });
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** The collection URL of an object's kind, in its namespace when it has one. */
  static collectionPath(object: KubeObjectLike): string {
    const resource = RESOURCES[object.kind];
    if (resource === undefined) throw new Error(`The test client knows no resource for kind ${object.kind}`);
    const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    const namespace = object.metadata.namespace;
    return namespace === undefined ? `${base}/${resource}` : `${base}/namespaces/${namespace}/${resource}`;
  }

  /** Creates the object; with `dryRun`, the server admits and validates it but stores nothing. */
  create<T = KubeObjectLike>(object: KubeObjectLike, options: { dryRun?: boolean } = {}): Promise<KubeResponse<T>> {
    const query = options.dryRun === true ? "?dryRun=All&fieldValidation=Strict" : "?fieldValidation=Strict";
    return this.request<T>("POST", `${KubeClient.collectionPath(object)}${query}`, object);
  }

  /**
   * Server-side apply, as `kubectl apply --server-side --force-conflicts`: creates the object or
   * updates the one there, with strict field validation; with `dryRun`, nothing is stored.
   */
  apply<T = KubeObjectLike>(object: KubeObjectLike, options: { dryRun?: boolean } = {}): Promise<KubeResponse<T>> {
    const query = new URLSearchParams({ fieldManager: "llmsafespace-tests", force: "true", fieldValidation: "Strict" });
    if (options.dryRun === true) query.set("dryRun", "All");
    const path = `${KubeClient.collectionPath(object)}/${object.metadata.name}?${query.toString()}`;
    // JSON is YAML, so the object goes as it is.
    return this.request<T>("PATCH", path, object, "application/apply-patch+yaml");
  }

  get<T = KubeObjectLike>(object: KubeObjectLike): Promise<KubeResponse<T>> {
    return this.request<T>("GET", `${KubeClient.collectionPath(object)}/${object.metadata.name}`);
  }

  replaceStatus<T = KubeObjectLike>(object: KubeObjectLike): Promise<KubeResponse<T>> {
    return this.request<T>("PUT", `${KubeClient.collectionPath(object)}/${object.metadata.name}/status`, object);
  }

  delete(object: KubeObjectLike): Promise<KubeResponse> {
    return this.request("DELETE", `${KubeClient.collectionPath(object)}/${object.metadata.name}`);
  }
}

/** A Kubernetes error as one line: its message and every field cause. */
export function describeStatus(response: KubeResponse): string {
  const status = response.body as KubeStatus;
  const causes = (status.details?.causes ?? []).map((c) => `${c.field ?? ""}: ${c.message ?? ""}`);
  return `${response.status} ${status.message ?? JSON.stringify(response.body)}${causes.length > 0 ? ` [${causes.join("; ")}]` : ""}`;
}
