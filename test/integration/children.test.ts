/**
 * Every child the sync hook answers for every fixture is admitted by the real API server — strict
 * field validation, the built-in schemas, and Pod Security "restricted" enforced on the
 * namespace. The answers come from the code as it is now (the same as the goldens when the unit
 * tier passes), so a builder change shows here even before its goldens are rewritten.
 */
import assert from "node:assert/strict";
import { answerFixture } from "../support/app.js";
import { fixtureCases } from "../support/fixtures.js";
import { describeStatus, type KubeObjectLike } from "./support/kube.js";
import { cluster } from "./setup.js";

/**
 * Kinds whose CRD this API server does not have. A CiliumNetworkPolicy needs Cilium's own CRD,
 * which is not available here; its shape is checked by the unit tier (test/support/k8s-schema.ts).
 */
const NOT_INSTALLED = new Set(["cilium.io/v2/CiliumNetworkPolicy"]);

describe("sync children on a real API server", () => {
  for (const fixture of [...fixtureCases("sandbox"), ...fixtureCases("warmpool")]) {
    if ((fixture.options.hook ?? "sync") !== "sync") continue;
    it(`sync children › ${fixture.parent} ${fixture.name} › every child is admitted (server-side dry run)`, async () => {
      const answer = await answerFixture(fixture);
      assert.equal(answer.status, 200, answer.text);
      const children = (answer.body.children ?? []) as KubeObjectLike[];
      for (const child of children.filter((c) => !NOT_INSTALLED.has(`${c.apiVersion}/${c.kind}`))) {
        const response = await cluster().client.create(child, { dryRun: true });
        assert.ok(
          response.status === 201 || response.status === 200,
          `${child.kind} ${child.metadata.name}: ${describeStatus(response)}`,
        );
        // The server also warns (without refusing) about deprecated or ignored fields.
        assert.deepEqual(response.warnings, [], `${child.kind} ${child.metadata.name}`);
      }
    });
  }
});
