/**
 * Faults on the API-server tier: the API server restarts in the middle of a claim storm, and an
 * API server that answers slowly. Whatever happens, no pod goes to two Sandboxes, no Sandbox
 * keeps two pods, and every sync answers within its deadline.
 */
import assert from "node:assert/strict";
import { createServer, connect, type Server, type Socket } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import {
  createSandbox,
  hookServer,
  useNamespace,
  podOf,
  sync,
  syncBody,
  warmCondition,
  warmPool,
  type Pod,
  type SyncAnswer,
} from "./support/claims.js";
import type { KubeObjectLike } from "./support/kube.js";
import { cluster } from "./setup.js";

const NAMESPACE = "faults";

async function podsControlledBy(uid: string): Promise<Pod[]> {
  const response = await cluster().client.request<{ items: Pod[] }>(
    "GET",
    `/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=${encodeURIComponent(`controller-uid=${uid}`)}`,
  );
  return response.body.items.map((pod) => ({ ...pod, apiVersion: "v1", kind: "Pod" }));
}

/** A TCP proxy to the API server that holds every client's bytes back for `delayMs`. */
function slowProxy(target: number, delayMs: number): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("data", (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        close: () => {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      });
    });
  });
}

describe("faults on a real API server", function () {
  this.timeout(180_000);

  before(async () => {
    await useNamespace(NAMESPACE);
  });

  it("faults › the API server restarts during a claim storm › no pod twice, and after re-syncs every Sandbox has one pod", async () => {
    await warmPool("storm", 15);
    const sandboxes = await Promise.all(Array.from({ length: 30 }, (_, i) => createSandbox(`storm-${String(i).padStart(2, "0")}`)));
    const servers = [hookServer(), hookServer()];
    const storm = Promise.all(sandboxes.map((sandbox, i) => sync((servers[i % 2] ?? servers[0]!).app, syncBody(sandbox))));
    // Restart while the storm is in full swing: some claims land before, some fail, some may
    // land with their answer lost.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const restart = cluster().restartApiServer(500);
    const answers = await storm;
    await restart;

    // Each answer is one pod; a claim that failed mid-restart answered cold with ClaimError.
    for (const answer of answers) {
      assert.equal(answer.children.filter((c) => c.kind === "Pod").length, 1, JSON.stringify(answer.status));
    }

    // Play Metacontroller: each Sandbox's observed pods are the cold pod it asked for (as if
    // created) and whatever pods now carry its controller-uid (a claim that landed), then sync
    // again, twice: an extra claim is given back on the first, gone from view on the second.
    const final: SyncAnswer[] = [];
    for (const [i, sandbox] of sandboxes.entries()) {
      let answer = answers[i] as SyncAnswer;
      for (let round = 0; round < 2; round++) {
        const wanted = podOf(answer);
        const claimed = await podsControlledBy(String(sandbox.metadata.uid));
        const cold = wanted !== undefined && wanted.metadata.name.startsWith("sandbox-") ? [wanted] : [];
        const observed = [...cold, ...claimed.filter((p) => !cold.some((c) => c.metadata.name === p.metadata.name))] as KubeObjectLike[];
        const serving = observed.find((p) => p.metadata.name === wanted?.metadata.name)?.metadata.name;
        const parent = { ...sandbox, ...(serving !== undefined ? { status: { podName: serving } } : {}) };
        answer = await sync((servers[0] ?? servers[1]!).app, syncBody(parent, observed));
      }
      final.push(answer);
    }

    const finalPods = final.map((answer) => answer.children.filter((c) => c.kind === "Pod").map((c) => c.metadata.name));
    for (const [i, pods] of finalPods.entries()) assert.equal(pods.length, 1, `${String(sandboxes[i]?.metadata.name)}: ${pods.join(", ")}`);
    const names = finalPods.map((pods) => pods[0]);
    assert.equal(new Set(names).size, names.length, "a pod serves two Sandboxes");

    // What the API server holds: every claimed pod is claimed by the one Sandbox it serves.
    const pool = await cluster().client.request<{ items: Pod[] }>("GET", `/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=pool%3Dstorm`);
    for (const pod of pool.body.items) {
      const owner = pod.metadata.labels?.["llmsafespace.dev/claimed-by"];
      if (pod.metadata.labels?.["llmsafespace.dev/warm-state"] !== "claimed") {
        assert.equal(owner, undefined, pod.metadata.name);
        continue;
      }
      const index = sandboxes.findIndex((s) => s.metadata.uid === owner);
      assert.ok(index >= 0, `${pod.metadata.name} is claimed by an unknown Sandbox`);
      assert.equal(names[index], pod.metadata.name, `${pod.metadata.name} is claimed by a Sandbox it does not serve`);
    }
    const reasons = answers.map((a) => warmCondition(a)?.reason ?? "");
    console.log(`      (during the restart: ${reasons.filter((r) => r === "Claimed").length} claimed, ${reasons.filter((r) => r === "ClaimError").length} ClaimError, ${reasons.filter((r) => r === "NoWarmPodAvailable").length} none left)`);
  });

  it("faults › the API server answers slowly › the sync answers cold with ClaimError inside the claim deadline", async () => {
    const { server, kubeconfigPath } = cluster();
    const proxy = await slowProxy(Number(new URL(server).port), 5_000);
    try {
      const slow = JSON.parse(readFileSync(kubeconfigPath, "utf8")) as { clusters: { cluster: { server: string } }[] };
      slow.clusters[0]!.cluster.server = `https://127.0.0.1:${proxy.port}`;
      const path = `${kubeconfigPath}.slow`;
      writeFileSync(path, JSON.stringify(slow));
      await warmPool("slow", 1);
      const sandbox = await createSandbox("slow-sandbox");
      const started = Date.now();
      const answer = await sync(hookServer({ kubeconfig: path, deadlineMs: 1_000 }).app, syncBody(sandbox));
      const elapsed = Date.now() - started;
      assert.equal(warmCondition(answer)?.reason, "ClaimError");
      assert.equal(podOf(answer)?.metadata.name, "sandbox-slow-sandbox");
      assert.ok(elapsed < 1_800, `answered after ${elapsed} ms`);
    } finally {
      proxy.close();
    }
  });
});
