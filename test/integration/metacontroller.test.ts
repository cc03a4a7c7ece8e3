/**
 * The manifests under metacontroller/ against the real API server, with Metacontroller's own
 * published CRDs (shared/reference) installed, so a CompositeController is checked against the
 * schema of the Metacontroller release we target.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeStatus } from "./support/kube.js";
import { cluster, installCrdsFrom, yamlObjects } from "./setup.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const METACONTROLLER_VERSION = "v4.17.2";
const REFERENCE = join(REPO, "..", "shared", "reference", `metacontroller-${METACONTROLLER_VERSION}`);
const MANIFESTS = join(REPO, "metacontroller");

describe("Metacontroller manifests on a real API server", function () {
  before(function () {
    if (!existsSync(REFERENCE)) {
      console.log(`      (skipped: Metacontroller's CRDs are not at ${REFERENCE}; they come with shared/reference)`);
      this.skip();
    }
  });

  it(`metacontroller › its ${METACONTROLLER_VERSION} CRDs › install and become Established`, async () => {
    const names = await installCrdsFrom(cluster(), REFERENCE, (file) => file.includes("crds"));
    assert.ok(names.includes("compositecontrollers.metacontroller.k8s.io"), names.join(", "));
  });

  const files = existsSync(MANIFESTS) ? readdirSync(MANIFESTS).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort() : [];
  if (files.length === 0) {
    it("metacontroller › our manifests › pass server-side dry run (none written yet: metacontroller/ is empty)");
  }
  for (const file of files) {
    it(`metacontroller › ${file} › passes server-side dry run`, async () => {
      for (const object of yamlObjects(join(MANIFESTS, file))) {
        const response = await cluster().client.create(object, { dryRun: true });
        assert.ok(response.status === 201 || response.status === 200, `${object.kind} ${object.metadata.name}: ${describeStatus(response)}`);
      }
    });
  }
});
