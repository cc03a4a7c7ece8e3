/**
 * Mocha root hooks for the real-Metacontroller tier: one environment for the whole run (see
 * support/environment.ts). Without a Metacontroller binary the tier says so and skips.
 *
 * After every test: Metacontroller logged no error about a Sandbox or WarmPool (unless the test
 * declared a deliberate outage), and the kubelet stand-in met no failure of its own.
 */
import { spawnSync } from "node:child_process";
import { REPO } from "../support/manifests.js";
import { metacontrollerBinary, startEnvironment, type Environment } from "./support/environment.js";

let current: Environment | undefined;
let checkedUntil = 0;
const outages = new Set<Mocha.Runnable>();

/** The running environment (started by the root hook). */
export function env(): Environment {
  if (current === undefined) throw new Error("The e2e environment is not running; run this file through npm run test:e2e");
  return current;
}

/**
 * Declares that the running test breaks something on purpose (stops the hook server, say):
 * Metacontroller's error lines during it are expected and not held against it.
 */
export function expectOutage(test: Mocha.Context): void {
  if (test.test !== undefined) outages.add(test.test);
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    const binary = metacontrollerBinary();
    if ("missing" in binary) {
      console.log(`\n  The real-Metacontroller tier is skipped: ${binary.missing}.\n  See ../shared/tools/metacontroller/README.md, or set METACONTROLLER_BIN.\n`);
      this.skip();
      return;
    }
    // The first run builds kube-apiserver, kube-controller-manager and etcd from source.
    this.timeout(45 * 60_000);
    // The hook server runs as `npm start` runs it, from the build.
    const build = spawnSync("npm", ["run", "build"], { cwd: REPO, stdio: ["ignore", "inherit", "inherit"] });
    if (build.status !== 0) throw new Error("npm run build failed; see its output above");
    current = await startEnvironment(binary.path);
    checkedUntil = Date.now();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await current?.stop();
    current = undefined;
  },
  afterEach(this: Mocha.Context) {
    if (current === undefined) return;
    // What happened while this test ran (a line logged just after its end may fall to the next).
    const since = checkedUntil;
    checkedUntil = Date.now();
    const errors = current.metacontroller.errorsAboutParents(since);
    const failures = current.kubelet.errors.splice(0);
    const test = this.currentTest;
    if (test === undefined || test.state !== "passed") return;
    const problems = [
      ...(errors.length > 0 && !outages.has(test)
        ? [`Metacontroller logged ${errors.length} error line(s) about our parents:\n${errors.map((e) => e.text).join("\n")}`]
        : []),
      ...(failures.length > 0 ? [`The kubelet stand-in failed:\n${failures.join("\n")}`] : []),
    ];
    // Fails the test that just passed, as Mocha's own leak checks do, without stopping the run.
    if (problems.length > 0) (this.test as Mocha.Hook).error(new Error(problems.join("\n\n")));
  },
};
