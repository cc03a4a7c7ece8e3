/**
 * A WarmPool sync request of any size, for the tests of large bodies and for `npm run bench`:
 * the `at-min-size` fixture with its first observed pod repeated `n` times.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_NOW } from "./app.js";
import { WARM_POOL_SIZE_CAP } from "../../src/warm-pool/warm-pool.js";
import { FIXTURES } from "./fixtures.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = Record<string, Json>;

const WIRE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export function wireTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Every RFC 3339 timestamp in the value moved by `deltaMs`. */
export function shiftTimes(value: Json, deltaMs: number): Json {
  if (typeof value === "string") return WIRE_TIME.test(value) ? wireTime(Date.parse(value) + deltaMs) : value;
  if (Array.isArray(value)) return value.map((item) => shiftTimes(item, deltaMs));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shiftTimes(item, deltaMs)]));
  }
  return value;
}

function object(value: Json | undefined, what: string): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what}: not an object`);
  return value;
}

/** A UUID that differs per index, as the API server gives every pod its own. */
function podUid(index: number): string {
  const hex = index.toString(16).padStart(12, "0");
  return `0b5e1c2d-4a6f-4e8b-9c0d-${hex}`;
}

/**
 * A WarmPool with `n` observed pods, all `available` and Ready, made from the first pod of the
 * `at-min-size` fixture: unique names and uids, created within the last 20 minutes (the ttl is an
 * hour) and `minSize: n`, so the sync keeps every pod and creates, retires and drops nothing.
 * Past the CRD's cap (1,000) minSize stays at the cap and the pool scaled a moment ago, so the
 * spare pods wait out scaleDownDelay and are kept too.
 */
export function warmPoolRequest(n: number, nowMs = Date.now()): JsonObject {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, "warmpool", "at-min-size", "request.json"), "utf8")) as Json;
  const request = shiftTimes(fixture, nowMs - Date.parse(FIXTURE_NOW)) as JsonObject;
  const parent = object(request.parent, "parent");
  object(parent.spec, "parent.spec").minSize = Math.min(n, WARM_POOL_SIZE_CAP);
  const status = object(parent.status, "parent.status");
  status.availablePods = n;
  if (n > WARM_POOL_SIZE_CAP) status.lastScaleTime = wireTime(nowMs - 1000);
  const children = object(request.children, "children");
  const observed = Object.values(object(children["Pod.v1"], "children.Pod.v1"));
  const template = JSON.stringify(observed[0]);
  const pods: JsonObject = {};
  for (let index = 0; index < n; index++) {
    const pod = JSON.parse(template) as JsonObject;
    const metadata = object(pod.metadata, "pod.metadata");
    const name = `python-pool-${index.toString(36).padStart(4, "0")}`;
    const created = nowMs - 60_000 - (index % 1200) * 1000;
    metadata.name = name;
    metadata.uid = podUid(index);
    metadata.resourceVersion = String(5000 + index);
    metadata.creationTimestamp = wireTime(created);
    const podStatus = object(pod.status, "pod.status");
    podStatus.startTime = wireTime(created + 2000);
    for (const condition of podStatus.conditions as JsonObject[]) condition.lastTransitionTime = wireTime(created + 40_000);
    pods[`team-a/${name}`] = pod;
  }
  children["Pod.v1"] = pods;
  return request;
}

