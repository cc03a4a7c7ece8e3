/**
 * The CRDs as the real API server reads them: every fixture parent is accepted, and bad ones
 * are rejected with a message that names the field.
 */
import assert from "node:assert/strict";
import { fixtureCases } from "../support/fixtures.js";
import { describeStatus, type KubeObjectLike } from "./support/kube.js";
import { cluster } from "./setup.js";

/** A fixture's object as a user would write it: no server-owned metadata, no status. */
export function asNew(object: KubeObjectLike): KubeObjectLike {
  const { metadata, status: _status, ...body } = structuredClone(object);
  const { name, namespace, labels, annotations } = metadata;
  return { ...body, metadata: { name, namespace, labels, annotations } };
}

interface FixtureObject {
  source: string;
  object: KubeObjectLike;
  /** The fixture says our CRDs reject this object on purpose. */
  outsideCrds: boolean;
}

/** Every distinct parent and related object of the sandbox fixtures. */
function fixtureObjects(): FixtureObject[] {
  const seen = new Map<string, FixtureObject>();
  for (const fixture of fixtureCases("sandbox")) {
    const request = fixture.request() as { parent: KubeObjectLike; related?: Record<string, Record<string, KubeObjectLike>> };
    // Our own kinds: what the CRDs decide on (a related Namespace is the API server's own).
    const objects = [request.parent, ...Object.values(request.related ?? {}).flatMap((group) => Object.values(group))].filter((object) =>
      object.apiVersion.startsWith("llmsafespace.dev/"),
    );
    for (const object of objects) {
      const fresh = asNew(object);
      const outsideCrds = (fixture.options.outsideCrds ?? []).includes(`${object.kind}/${object.metadata.name}`);
      seen.set(JSON.stringify(fresh), { source: fixture.name, object: fresh, outsideCrds });
    }
  }
  return [...seen.values()];
}

const sandbox = (spec: Record<string, unknown>): KubeObjectLike => ({
  apiVersion: "llmsafespace.dev/v1",
  kind: "Sandbox",
  metadata: { name: "bad", namespace: "team-a" },
  spec: { runtime: "python:3.10", ...spec },
});

const rejected: { name: string; object: KubeObjectLike; mentions: RegExp }[] = [
  { name: "a wrong securityLevel", object: sandbox({ securityLevel: "paranoid" }), mentions: /spec\.securityLevel.*Unsupported value/ },
  { name: "a missing runtime", object: { ...sandbox({}), spec: { timeout: 60 } }, mentions: /spec\.runtime.*Required/ },
  { name: "a timeout of zero", object: sandbox({ timeout: 0 }), mentions: /spec\.timeout.*greater than or equal to 1/ },
  { name: "a timeout over a day", object: sandbox({ timeout: 86401 }), mentions: /spec\.timeout.*less than or equal to 86400/ },
  { name: "a negative cpu", object: sandbox({ resources: { cpu: "-1" } }), mentions: /spec\.resources\.cpu/ },
  { name: "a malformed memory quantity", object: sandbox({ resources: { memory: "lots" } }), mentions: /spec\.resources\.memory/ },
  { name: "runAsUser 0", object: sandbox({ securityContext: { runAsUser: 0 } }), mentions: /spec\.securityContext\.runAsUser/ },
  {
    name: "an egress rule with neither domain nor cidr",
    object: sandbox({ networkAccess: { egress: [{ ports: [{ port: 443 }] }] } }),
    mentions: /spec\.networkAccess\.egress\[0\]/,
  },
  {
    name: "a port out of range",
    object: sandbox({ networkAccess: { egress: [{ cidr: "203.0.113.0/24", ports: [{ port: 70000 }] }] } }),
    mentions: /spec\.networkAccess\.egress\[0\]\.ports\[0\]\.port/,
  },
  { name: "a relative writable path", object: sandbox({ filesystem: { writablePaths: ["tmp"] } }), mentions: /spec\.filesystem\.writablePaths\[0\]/ },
  {
    name: "a WarmPool with a negative minSize",
    object: { apiVersion: "llmsafespace.dev/v1", kind: "WarmPool", metadata: { name: "bad", namespace: "team-a" }, spec: { runtime: "python:3.10", minSize: -1 } },
    mentions: /spec\.minSize/,
  },
  {
    name: "a WarmPool larger than 1,000 pods",
    object: { apiVersion: "llmsafespace.dev/v1", kind: "WarmPool", metadata: { name: "bad", namespace: "team-a" }, spec: { runtime: "python:3.10", minSize: 1, maxSize: 1001 } },
    mentions: /spec\.maxSize.*less than or equal to 1000/,
  },
  {
    name: "a WarmPool keeping more than 1,000 pods",
    object: { apiVersion: "llmsafespace.dev/v1", kind: "WarmPool", metadata: { name: "bad", namespace: "team-a" }, spec: { runtime: "python:3.10", minSize: 5000 } },
    mentions: /spec\.minSize.*less than or equal to 1000/,
  },
  {
    name: "a RuntimeEnvironment without an image",
    object: { apiVersion: "llmsafespace.dev/v1", kind: "RuntimeEnvironment", metadata: { name: "bad" }, spec: { language: "python" } },
    mentions: /spec\.image.*Required/,
  },
];

describe("CRDs on a real API server", () => {
  for (const { source, object, outsideCrds } of fixtureObjects()) {
    if (outsideCrds) {
      it(`CRDs › ${object.kind} ${object.metadata.name} from ${source} › is rejected, as the fixture says`, async () => {
        const response = await cluster().client.create(object, { dryRun: true });
        assert.equal(response.status, 422, describeStatus(response));
      });
      continue;
    }
    it(`CRDs › ${object.kind} ${object.metadata.name} from ${source} › is accepted`, async () => {
      const response = await cluster().client.create(object, { dryRun: true });
      assert.ok(response.status === 201 || response.status === 200, describeStatus(response));
    });
  }

  for (const bad of rejected) {
    it(`CRDs › ${bad.name} › is rejected naming the field`, async () => {
      const response = await cluster().client.create(bad.object, { dryRun: true });
      assert.equal(response.status, 422, describeStatus(response));
      assert.match(describeStatus(response), bad.mentions);
    });
  }
});
