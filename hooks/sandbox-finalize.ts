/**
 * POST /sandbox/finalize — a deleted Sandbox lets go of its children (SPEC §4.5).
 *
 * Returns no children, so Metacontroller deletes them all, and says `finalized` only once none
 * is observed any more: Metacontroller may call again, and each call answers from what it sees.
 */
import type { Sandbox, SandboxStatus } from "../src/api-types.js";
import { ConditionType, Reason } from "../src/conditions.js";
import { allObjects, type HookRequest, type HookResponse } from "../src/metacontroller.js";
import { conditionsOf, previousCondition, readyCondition } from "../src/sandbox.js";

export interface SandboxFinalizeDeps {
  now: Date;
}

export function sandboxFinalize(
  request: HookRequest<Sandbox>,
  deps: SandboxFinalizeDeps,
): HookResponse<SandboxStatus> {
  const previous = request.parent.status;
  const remaining = allObjects(request.children);
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
  return { status, children: [], finalized: remaining.length === 0 };
}
