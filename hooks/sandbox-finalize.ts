/**
 * POST /sandbox/finalize — a deleted Sandbox lets go of its children (SPEC §4.5, §7).
 *
 * A claimed warm pod is offered to the recycler (recycled only when its pool allows and every
 * check passes; by default never). Every other child is left out of the answer, so
 * Metacontroller deletes it. `finalized` is said only once no child is observed any more:
 * Metacontroller may call again, and each call answers from what it sees.
 */
import type { Sandbox, SandboxStatus } from "../src/api/index.js";
import type { WarmPodRecycler } from "../src/warm-pool/index.js";
import { ConditionType, Reason } from "../src/api/index.js";
import { LABEL_CLAIMED_BY } from "../src/children/index.js";
import { allObjects, objectsOfKind, type HookRequest, type HookResponse, type KubeObject } from "../src/api/index.js";
import { keepObserved, type ObservedPod } from "../src/api/index.js";
import type { RecycleDecision } from "../src/warm-pool/index.js";
import { conditionsOf, previousCondition, readyCondition } from "../src/sandbox/index.js";

export interface SandboxFinalizeDeps {
  now: Date;
  recycler: WarmPodRecycler;
  /** Counts each recycle decision with its reason. @default none */
  onRecycleDecision?: (decision: RecycleDecision) => void;
}

export async function sandboxFinalize(
  request: HookRequest<Sandbox>,
  deps: SandboxFinalizeDeps,
): Promise<HookResponse<SandboxStatus>> {
  const sandbox = request.parent;
  const previous = sandbox.status;
  const remaining = allObjects(request.children);

  // A pod given back to its pool stays in the answer: Metacontroller may not have seen the
  // recycle yet, and would otherwise delete the pool's pod by its uid.
  const kept: KubeObject[] = [];
  for (const pod of objectsOfKind<ObservedPod>(request.children, "v1", "Pod")) {
    if (pod.metadata.labels?.[LABEL_CLAIMED_BY] !== sandbox.metadata.uid) continue;
    const decision = await deps.recycler.recycle(pod, sandbox.metadata.uid ?? "");
    deps.onRecycleDecision?.(decision);
    if (decision.recycle || decision.reason === "conflict") kept.push(keepObserved(pod));
  }

  const status: SandboxStatus = {
    phase: "Terminating",
    conditions: conditionsOf(
      previous,
      [
        readyCondition(
          "False",
          Reason.Terminating,
          remaining.length === 0
            ? "The sandbox is deleted; all of its children are gone."
            : `The sandbox is being deleted; waiting for ${remaining.length} ${remaining.length === 1 ? "child" : "children"} to go.`,
        ),
        previousCondition(previous, ConditionType.WarmPodClaimed),
        previousCondition(previous, ConditionType.EgressDomainsEnforced),
        previousCondition(previous, ConditionType.Expired),
      ],
      deps.now,
    ),
    ...(previous?.startTime !== undefined ? { startTime: previous.startTime } : {}),
  };
  return { status, children: kept, finalized: remaining.length === 0 };
}
