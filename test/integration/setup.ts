/**
 * Mocha root hooks for the API-server tier: one cluster for the whole run, with the CRDs, the
 * fixtures' namespaces (enforcing Pod Security "restricted") and the RuntimeClasses installed.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { crdDirectory } from "../../src/api/crds.js";
import { yamlObjects } from "../support/manifests.js";
import { startCluster, type TestCluster } from "./support/cluster.js";
import { describeStatus, type KubeObjectLike } from "./support/kube.js";

/** Namespaces the sandbox fixtures use. */
export const FIXTURE_NAMESPACES = ["team-a", "platform"];

let current: TestCluster | undefined;

/** The running test cluster (started by the root hook). */
export function cluster(): TestCluster {
  if (current === undefined) throw new Error("The test cluster is not running; run this file through npm run test:integration");
  return current;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    // The first run builds kube-apiserver and etcd from source: minutes on two cores.
    this.timeout(45 * 60_000);
    current = await startCluster();
    await installCrds(current);
    for (const name of FIXTURE_NAMESPACES) {
      await mustCreate(current, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name,
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      });
    }
    for (const [name, handler] of [["gvisor", "runsc"], ["runsc", "runsc"]]) {
      await mustCreate(current, { apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", metadata: { name: name ?? "" }, handler });
    }
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await current?.stop();
    current = undefined;
  },
};

/** Creates the CRDs in a folder and waits until each is Established. */
export async function installCrdsFrom(target: TestCluster, directory: string, only?: (file: string) => boolean): Promise<string[]> {
  const names: string[] = [];
  for (const file of readdirSync(directory).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort()) {
    if (only !== undefined && !only(file)) continue;
    for (const object of yamlObjects(join(directory, file))) {
      if (object.kind !== "CustomResourceDefinition") continue;
      await mustCreate(target, object);
      names.push(object.metadata.name);
    }
  }
  for (const name of names) await waitEstablished(target, name);
  return names;
}

async function installCrds(target: TestCluster): Promise<void> {
  await installCrdsFrom(target, crdDirectory());
}

async function waitEstablished(target: TestCluster, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await target.client.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
      "GET",
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
    );
    const established = response.body.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    if (established === true) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} did not become Established: ${JSON.stringify(response.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function mustCreate(target: TestCluster, object: KubeObjectLike): Promise<void> {
  const response = await target.client.create(object);
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`Could not create ${object.kind} ${object.metadata.name}: ${describeStatus(response)}`);
  }
}
