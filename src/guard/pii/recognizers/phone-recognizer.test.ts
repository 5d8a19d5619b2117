import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArbiterError } from "../../../errors/arbiter-error.ts";
import { createPhoneRecognizer } from "./phone-recognizer.ts";

const reported = (text: string, regions?: string[]) =>
  createPhoneRecognizer(regions ? { regions } : {})
    .detect(text)
    .filter((f) => f.score >= 0.5)
    .map((f) => f.value);

describe("phone recogniser", () => {
  it("finds valid international numbers in common notations", () => {
    assert.deepEqual(reported("London office +44 20 7946 0958."), ["+44 20 7946 0958"]);
    assert.deepEqual(reported("Paris +33 1 42 68 53 00"), ["+33 1 42 68 53 00"]);
    assert.deepEqual(reported("Berlin 0049 30 901820"), ["0049 30 901820"]);
    assert.deepEqual(reported("Zürich +41 (0)44 668 18 00"), ["+41 (0)44 668 18 00"]);
  });

  it("finds valid national numbers of the default region, with extensions", () => {
    assert.deepEqual(reported("(212) 456-7890"), ["(212) 456-7890"]);
    assert.deepEqual(reported("212.456.7890"), ["212.456.7890"]);
    assert.deepEqual(reported("212-456-7890 x 123"), ["212-456-7890 x 123"]);
  });

  it("reads national numbers with the configured default region", () => {
    assert.deepEqual(reported("020 7946 0958"), []);
    assert.deepEqual(reported("020 7946 0958", ["GB"]), ["020 7946 0958"]);
  });

  it("needs phone context for numbers no region validates", () => {
    assert.deepEqual(reported("ticket 467 3395"), []);
    assert.deepEqual(reported("Call me on 467 3395"), ["467 3395"]);
    assert.deepEqual(reported("467 3395 (mobile)"), ["467 3395"]);
  });

  it("ignores dates, times, decimals, IP addresses and short numbers", () => {
    assert.deepEqual(reported("Call at 2015-12-22 04:34:22"), []);
    assert.deepEqual(reported("call before 12/05/2024"), []);
    assert.deepEqual(reported("phone cost 1234567.89"), []);
    assert.deepEqual(reported("call 192.168.10.20"), []);
    assert.deepEqual(reported("call room 1234"), []);
  });

  it("keeps numbers on separate lines apart", () => {
    assert.deepEqual(reported("tel:\n212-456-7890\n212-456-7891"), ["212-456-7890", "212-456-7891"]);
  });

  it("normalises spellings of one number to E.164, keeping the extension", () => {
    const phone = createPhoneRecognizer();
    const normalize = (value: string) => {
      phone.detect(`call ${value}`);
      return phone.normalize?.(value);
    };
    assert.equal(normalize("+1 212 456 7890"), "+12124567890");
    assert.equal(normalize("(212) 456-7890"), "+12124567890");
    assert.equal(normalize("001 212 456 7890"), "+12124567890");
    assert.equal(normalize("212-456-7890 x 12"), "+12124567890;ext=12");
    assert.equal(normalize("467 3395"), "4673395");
  });

  it("does not report numbers next to other-number words", () => {
    assert.deepEqual(reported("order 212-456-7890 shipped"), []);
    assert.deepEqual(reported("invoice 212-456-7890, call me about it"), ["212-456-7890"]);
  });

  it("rejects unknown regions with a clear error", () => {
    assert.throws(
      () => createPhoneRecognizer({ regions: ["XX"] }),
      (e: unknown) => {
        assert.ok(ArbiterError.is(e, "invalid-argument"));
        assert.match(e.message, /Unknown phone region "XX"/);
        return true;
      },
    );
  });
});
