import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/server/config.js";

describe("config", () => {
  it("loadConfig › an empty environment › gives the documented defaults", () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.logLevel, "info");
    assert.equal(config.pod.gvisorRuntimeClass, "gvisor");
    assert.equal(config.network.fqdnProvider, "none");
    assert.deepEqual(config.network.apiNamespaceSelector, { "kubernetes.io/metadata.name": "llmsafespace" });
    assert.deepEqual(config.network.apiPodSelector, { app: "llmsafespace", component: "api" });
  });

  it("loadConfig › values set › are read", () => {
    const config = loadConfig({
      PORT: "9443",
      LOG_LEVEL: "debug",
      FQDN_PROVIDER: "cilium",
      API_POD_SELECTOR: "app.kubernetes.io/name=api, tier=control",
    });
    assert.equal(config.port, 9443);
    assert.equal(config.logLevel, "debug");
    assert.equal(config.network.fqdnProvider, "cilium");
    assert.deepEqual(config.network.apiPodSelector, { "app.kubernetes.io/name": "api", tier: "control" });
  });

  it("loadConfig › several bad values › one error naming each variable and what to do", () => {
    assert.throws(
      () => loadConfig({ PORT: "http", FQDN_PROVIDER: "calico", API_POD_SELECTOR: "app in (a,b)", GVISOR_RUNTIME_CLASS: "Run_SC" }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 4);
        assert.match(error.message, /PORT="http": must be a whole number from 1 to 65535/);
        assert.match(error.message, /FQDN_PROVIDER="calico": must be one of none, cilium/);
        assert.match(error.message, /API_POD_SELECTOR=.*key=value/);
        assert.match(error.message, /GVISOR_RUNTIME_CLASS=.*RuntimeClass name/);
        return true;
      },
    );
  });

  it("loadConfig › TLS and token settings that cannot work › refused, saying what is missing", () => {
    assert.throws(() => loadConfig({ TLS_CERT_FILE: "/tls/tls.crt" }), /set both \(to serve HTTPS\) or neither/);
    assert.throws(() => loadConfig({ METRICS_REQUIRE_TOKEN: "true" }), /needs HOOK_TOKEN_FILE/);
    assert.throws(() => loadConfig({ METRICS_REQUIRE_TOKEN: "yes" }), /must be true or false/);
  });
});
