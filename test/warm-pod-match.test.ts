import assert from "node:assert/strict";
import type { KubeObject } from "../src/api/metacontroller.js";
import { quantityValue, warmPodDifferences } from "../src/warm-pool/warm-pod-match.js";

function pod(container: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, ...spec, containers: [{ name: "sandbox", image: "python:3.10", ...container }] },
  } as KubeObject;
}

describe("warm pod compatibility", () => {
  it("quantityValue › equal quantities written differently › the same number", () => {
    assert.equal(quantityValue("1.5"), quantityValue("1500m"));
    assert.equal(quantityValue("1Gi"), 2 ** 30);
    assert.equal(quantityValue("1e3"), 1000);
    assert.equal(quantityValue(2), 2);
    assert.equal(quantityValue("lots"), undefined);
  });

  it("warmPodDifferences › the same pod, quantities in canonical form › no difference", () => {
    const cold = pod({ resources: { limits: { cpu: "1.5", memory: "1Gi" } } });
    const warm = pod({ resources: { limits: { memory: "1Gi", cpu: "1500m" } } });
    assert.deepEqual(warmPodDifferences(warm, cold), []);
  });

  it("warmPodDifferences › a weaker or smaller warm pod › names each field that differs", () => {
    const cold = pod({ image: "python:3.10", resources: { limits: { cpu: "1" } } }, { runtimeClassName: "gvisor" });
    const warm = pod({ image: "python:3.11", resources: { limits: { cpu: "500m" } } });
    assert.deepEqual(warmPodDifferences(warm, cold), ["image", "resources", "runtimeClassName"]);
  });
});
