import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEmailRecognizer } from "./email-recognizer.ts";

describe("e-mail recogniser", () => {
  const email = createEmailRecognizer();
  const values = (text: string) => email.detect(text).map((f) => f.value);

  it("finds common address forms with exact spans", () => {
    assert.deepEqual(values("Write to jane.doe+billing@mail.example.co.uk."), [
      "jane.doe+billing@mail.example.co.uk",
    ]);
    assert.deepEqual(values("<ops_team@acme-corp.io>"), ["ops_team@acme-corp.io"]);
    assert.deepEqual(values("mailto:Someone@Example.COM?subject=x"), ["Someone@Example.COM"]);
    assert.deepEqual(values("josé.müller@bücher.de"), ["josé.müller@bücher.de"]);
    assert.deepEqual(values("a@b.cd, x.y@z.org"), ["a@b.cd", "x.y@z.org"]);
  });

  it("ignores things that are not addresses", () => {
    assert.deepEqual(values("@mention and user@localhost and a@b"), []);
    assert.deepEqual(values("price: 5@3.50"), []);
    assert.deepEqual(values("no at sign here"), []);
  });

  it("normalises to lower case", () => {
    assert.equal(email.normalize?.("Jane@Example.COM"), "jane@example.com");
  });
});
