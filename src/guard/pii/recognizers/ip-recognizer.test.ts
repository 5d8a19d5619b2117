import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createIpRecognizer } from "./ip-recognizer.ts";

const reported = (text: string) =>
  createIpRecognizer()
    .detect(text)
    .filter((f) => f.score >= 0.5)
    .map((f) => f.value);

describe("IP recogniser", () => {
  it("finds IPv4 addresses and validates octets", () => {
    assert.deepEqual(reported("client 203.0.113.7 and 10.0.0.255."), ["203.0.113.7", "10.0.0.255"]);
    assert.deepEqual(reported("bad 256.1.1.1 and 1.2.3"), []);
    assert.deepEqual(reported("zero-padded 010.001.001.001"), []);
    assert.deepEqual(reported("|106.31.73.20|"), ["106.31.73.20"]);
    assert.deepEqual(reported("client_ip:106.31.73.20"), ["106.31.73.20"]);
  });

  it("finds IPv6 addresses in full, compressed and mixed forms", () => {
    assert.deepEqual(reported("host 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up"), [
      "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    ]);
    assert.deepEqual(reported("src fe80::1ff:fe23:4567:890a, dst 2001:db8::"), [
      "fe80::1ff:fe23:4567:890a",
      "2001:db8::",
    ]);
    assert.deepEqual(reported("mapped ::ffff:192.0.2.128"), ["::ffff:192.0.2.128"]);
  });

  it("ignores times, C++ scopes, versions, loopback and longer dotted numbers", () => {
    assert.deepEqual(reported("at 12:20:39 we met"), []);
    assert.deepEqual(reported("std::vector<int>"), []);
    assert.deepEqual(reported("version 1.2.3.4"), []);
    assert.deepEqual(reported("bind 127.0.0.1 or ::1"), []);
    assert.deepEqual(reported("oid 1.2.3.4.5"), []);
  });
});
