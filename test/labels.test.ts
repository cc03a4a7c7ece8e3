import assert from "node:assert/strict";
import { dnsLabel, labelValue, runtimeName } from "../src/children/labels.js";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe("names", () => {
  it("dnsLabel › a short clean name › is kept as it is", () => {
    assert.equal(dnsLabel("sandbox", "demo", "default-deny"), "sandbox-demo-default-deny");
  });

  it("dnsLabel › a name over 63 characters › is cut to 63 with a stable hash suffix", () => {
    const name = dnsLabel("sandbox", "a".repeat(80), "default-deny");
    assert.equal(name.length, 63);
    assert.match(name, DNS_LABEL);
    assert.match(name, /-[0-9a-f]{8}$/);
    assert.equal(dnsLabel("sandbox", "a".repeat(80), "default-deny"), name);
  });

  it("dnsLabel › two long names that share a prefix › stay distinct", () => {
    const long = "b".repeat(70);
    assert.notEqual(dnsLabel("sandbox", long, "egress-1"), dnsLabel("sandbox", long, "egress-2"));
  });

  it("dnsLabel › a name with dots › is made a DNS label and cannot collide with its dashed twin", () => {
    const dotted = dnsLabel("sandbox", "a.b");
    assert.match(dotted, DNS_LABEL);
    assert.notEqual(dotted, dnsLabel("sandbox", "a-b"));
  });

  it("labelValue › a 253-character Sandbox name › fits a label value", () => {
    const value = labelValue("x".repeat(253));
    assert.ok(value.length <= 63);
    assert.match(value, DNS_LABEL);
  });

  it("runtimeName › python:3.10 › is python-3.10", () => {
    assert.equal(runtimeName("python:3.10"), "python-3.10");
  });
});
