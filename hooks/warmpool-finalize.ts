/**
 * POST /warmpool/finalize — a deleted WarmPool lets go of its pods (SPEC §6).
 *
 * Retire before drop holds here too: every `available` pod is first flipped to `retiring`, and
 * only pods observed so are dropped, so a pod a Sandbox claims at the last moment stays its own.
 * The ServiceAccount and the deny-all NetworkPolicy stay while any pod is observed (a warm pod
 * must never be left with open network), and `finalized` comes once nothing is observed. Each
 * call answers from what it sees, so Metacontroller may call again.
 */
import type { WarmPool, WarmPoolStatus } from "../src/api/index.js";
import type { WarmPodRetirer } from "../src/warm-pool/index.js";
import { ConditionType, Reason } from "../src/api/index.js";
import { allObjects, type HookRequest, type HookResponse } from "../src/api/index.js";
import {
  RETIRE_RETRY_SECONDS,
  count,
  keptPods,
  observePool,
  poolStatus,
  resyncAfter,
  retireFailure,
  retirePods,
  warmPoolSupportIn,
} from "../src/warm-pool/index.js";

export interface WarmPoolFinalizeDeps {
  retirer: WarmPodRetirer;
  now: Date;
}

export async function warmPoolFinalize(
  request: HookRequest<WarmPool>,
  deps: WarmPoolFinalizeDeps,
): Promise<HookResponse<WarmPoolStatus>> {
  const pool = request.parent;
  const pods = observePool(pool, request.children, request.related);
  const retirement = await retirePods(deps.retirer, pool, [...pods.available, ...pods.pending, ...pods.dead]);
  const remaining = allObjects(request.children).length;
  const status = poolStatus(
    pool.status,
    pods,
    retirement.retired.length > 0,
    [
      {
        type: ConditionType.Ready,
        status: "False",
        reason: Reason.Terminating,
        message:
          remaining === 0
            ? "The pool is deleted; all of its children are gone."
            : `The pool is being deleted; waiting for ${count(remaining, "child", "children")} to go` +
              (pods.observed.length > 0
                ? `, ${count(pods.observed.length, "pod")} among them (each is retired before it is deleted).`
                : "."),
      },
      retireFailure(retirement.failed),
    ],
    deps.now,
  );
  return {
    status,
    // The ServiceAccount and deny-all NetworkPolicy stay while any pod is left.
    children: [...keptPods(pods), ...(pods.observed.length > 0 ? warmPoolSupportIn(request) : [])],
    finalized: remaining === 0,
    ...resyncAfter(retirement.failed.length > 0 ? [RETIRE_RETRY_SECONDS] : []),
  };
}

