/**
 * TLS: with TLS_CERT_FILE and TLS_KEY_FILE the server speaks HTTPS only (Metacontroller gets the
 * CA as the webhook's caBundle). The certificate is made with openssl for the test.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixtureCases } from "./support/fixtures.js";
import { freePort } from "./support/ports.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");

function call(port: number, ca: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port, path, ca, method: body === undefined ? "GET" : "POST", headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => { resolve(res.statusCode ?? 0); });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("TLS", function () {
  this.timeout(60_000);

  it("main › a certificate and key configured › serves the hooks over HTTPS only", async function () {
    const dir = mkdtempSync(join(tmpdir(), "llmsafespace-tls-"));
    const made = spawnSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "tls.key"), "-out", join(dir, "tls.crt"),
    ], { encoding: "utf8" });
    if (made.error !== undefined) {
      console.log("      (skipped: no openssl to make a certificate)");
      this.skip();
    }
    assert.equal(made.status, 0, made.stderr);
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src", "server", "main.ts")], {
      cwd: REPO,
      env: { ...process.env, PORT: String(port), LOG_LEVEL: "warn", TLS_CERT_FILE: join(dir, "tls.crt"), TLS_KEY_FILE: join(dir, "tls.key") },
      stdio: "ignore",
    });
    try {
      const ca = readFileSync(join(dir, "tls.crt"), "utf8");
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = await call(port, ca, "/readyz").catch(() => 0);
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(status, 200, "the HTTPS server did not become ready");
      const fixture = fixtureCases("sandbox").find((c) => c.name === "standard-minimal");
      assert.equal(await call(port, ca, "/sandbox/sync", JSON.stringify(fixture?.request())), 200);
      // Plain HTTP on the same port gets no answer.
      const plain = await new Promise<string>((resolve) => {
        httpRequest({ host: "127.0.0.1", port, path: "/healthz" }, (res) => { resolve(String(res.statusCode)); })
          .on("error", (error) => { resolve((error as NodeJS.ErrnoException).code ?? "error"); })
          .end();
      });
      assert.notEqual(plain, "200");
    } finally {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
