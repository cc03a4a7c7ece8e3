/**
 * The README's uninstall, in its order, last of the tier: every Sandbox and WarmPool finalized
 * by the running controllers, then the controllers and the hook server's objects, then the CRDs;
 * nothing of ours left behind.
 */
import assert from "node:assert/strict";
import { GROUP_VERSION, gone, kubectl, list, readmeCommands } from "./support/scenario.js";

describe("uninstall, as the README says", function () {
  this.timeout(300_000);

  it("uninstall › the README's three commands in order › every parent finalized, then nothing of ours left", async () => {
    const commands = readmeCommands("### Uninstalling");
    assert.equal(commands.length, 3, JSON.stringify(commands));
    const [parents, controllers, crds] = commands as [string[], string[], string[]];

    assert.ok((await list(`/apis/${GROUP_VERSION}/sandboxes`)).length > 0, "the tier left Sandboxes to uninstall");
    await kubectl(...parents, "--timeout=120s");
    assert.deepEqual(await list(`/apis/${GROUP_VERSION}/sandboxes`), []);
    assert.deepEqual(await list(`/apis/${GROUP_VERSION}/warmpools`), []);
    // The finalize hooks let every pod go: claimed, warm and cold alike.
    await gone("every sandbox and warm pod", "/api/v1/pods", "app=llmsafespace");

    await kubectl(...controllers, "--timeout=120s");
    assert.deepEqual(await list("/apis/metacontroller.k8s.io/v1alpha1/compositecontrollers"), []);
    await kubectl(...crds, "--timeout=120s");
    await gone("the project's CRDs", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "app.kubernetes.io/part-of=llmsafespace");
    await gone("every child of ours", "/api/v1/serviceaccounts", "app=llmsafespace");
  });
});
