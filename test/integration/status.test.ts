/**
 * Status round trip: what a hook returns as `status`, plus the `observedGeneration` Metacontroller
 * adds, is written to the status subresource and read back unchanged. A field the CRD's status
 * schema prunes would differ on every sync and Metacontroller would write it forever (SPEC §2).
 */
import assert from "node:assert/strict";
import { answerFixture } from "../support/app.js";
import { fixtureCases } from "../support/fixtures.js";
import { describeStatus, type KubeObjectLike } from "./support/kube.js";
import { cluster } from "./setup.js";

/** One real parent per kind, whose status subresource every fixture's status is written to. */
const parents: Record<string, KubeObjectLike> = {
  sandbox: {
    apiVersion: "llmsafespace.dev/v1",
    kind: "Sandbox",
    metadata: { name: "status-round-trip", namespace: "team-a" },
    spec: { runtime: "python:3.10" },
  },
  warmpool: {
    apiVersion: "llmsafespace.dev/v1",
    kind: "WarmPool",
    metadata: { name: "status-round-trip", namespace: "team-a" },
    spec: { runtime: "python:3.10", minSize: 1 },
  },
};

for (const [folder, parent] of Object.entries(parents)) {
  describe(`${folder} status on a real API server`, () => {
    before(async () => {
      const response = await cluster().client.create(parent);
      assert.equal(response.status, 201, describeStatus(response));
    });

    for (const fixture of fixtureCases(folder)) {
      if ((fixture.options.hook ?? "sync") === "customize") continue;
      it(`status round trip › ${folder} ${fixture.name} › reads back unchanged`, async () => {
        const client = cluster().client;
        const current = await client.get(parent);
        assert.equal(current.status, 200, describeStatus(current));
        const generation = current.body.metadata.generation as number;
        const answer = await answerFixture(fixture);
        assert.equal(answer.status, 200, answer.text);
        const status = { ...answer.body.status, observedGeneration: generation };

        const written = await client.replaceStatus({ ...current.body, status });
        assert.equal(written.status, 200, describeStatus(written));
        assert.deepEqual(written.warnings, []);
        const read = await client.get<KubeObjectLike & { status?: unknown }>(parent);
        assert.deepStrictEqual(read.body.status, status);
      });
    }
  });
}
