import assert from "node:assert/strict";
import { it } from "node:test";
import { canonicalJson } from "./canonical-json.ts";

it("canonical JSON is fixed byte for byte: sorted keys, no whitespace, the same quirks as ever", () => {
  assert.equal(
    canonicalJson({ b: [1, { d: 2, c: "x\u2028y" }], a: undefined, é: true, "": null, f: () => 1 }),
    '{"":null,"b":[1,{"c":"x\u2028y","d":2}],"é":true}',
  );
  assert.equal(
    canonicalJson([undefined, () => 1, Symbol("s"), Number.NaN, -0, 1e21, 1e-7]),
    "[null,null,null,null,0,1e+21,1e-7]",
  );
  // Recorded hashes depend on these staying as they are.
  assert.equal(canonicalJson({ at: new Date(0), s: Symbol("s") }), '{"at":{},"s":null}');
  assert.equal(canonicalJson('a"b'), '"a\\"b"');
  assert.equal(canonicalJson(Number.POSITIVE_INFINITY), "null");
  assert.equal(canonicalJson(undefined), "null");
});
