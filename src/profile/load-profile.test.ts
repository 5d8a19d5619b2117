import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { ArbiterError } from "../errors/arbiter-error.ts";
import { loadProfile } from "./load-profile.ts";

const toolkitSource = `
import { z } from ${JSON.stringify(import.meta.resolve("zod"))};
import { defineToolkit } from ${JSON.stringify(new URL("../tools/toolkit.ts", import.meta.url).pathname)};
export default defineToolkit(() => ({
  tools: [{ name: "echo", description: "echo", input: z.object({ text: z.string() }), execute: async (i) => i }],
  handlers: { h: async () => ({ status: "ok", summary: "fine", confidence: 1 }) },
}));
`;

function fixture(profile: string, name = "profile.yaml"): string {
  const dir = mkdtempSync(join(tmpdir(), "arbiter-profile-"));
  writeFileSync(join(dir, "toolkit.ts"), toolkitSource);
  writeFileSync(join(dir, name), profile);
  return join(dir, name);
}

const good = `name: demo
toolkits: [./toolkit.ts]
workers:
  - name: a
    description: does a
    handler: h
    tools: [echo]
    timeout: 5s
  - name: b
    description: does b
    handler: h
    fallback: a
`;

async function loadError(file: string): Promise<ArbiterError> {
  try {
    const p = await loadProfile(file);
    await p.close();
  } catch (error) {
    assert.ok(error instanceof ArbiterError, `expected ArbiterError, got ${error}`);
    assert.equal(error.code, "invalid-profile");
    return error;
  }
  assert.fail("expected the profile to be rejected");
}

test("a valid profile loads with defaults, tools, handlers and a version", async () => {
  const profile = await loadProfile(fixture(good));
  assert.equal(profile.document.name, "demo");
  assert.equal(profile.workers.get("a")?.timeout, 5000);
  assert.equal(profile.workers.get("b")?.timeout, 30_000);
  assert.deepEqual([...profile.tools.keys()], ["echo"]);
  assert.ok(profile.handlers.has("h"));
  assert.match(profile.version, /^[0-9a-f]{64}$/);
  await profile.close();
});

test("the version depends on content, not formatting or format", async () => {
  const a = await loadProfile(fixture(good));
  const b = await loadProfile(fixture(`# a comment\n${good.replace("timeout: 5s", "timeout: 5000ms")}`));
  const json = await loadProfile(
    fixture(
      JSON.stringify({
        name: "demo",
        toolkits: ["./toolkit.ts"],
        workers: [
          { name: "a", description: "does a", handler: "h", tools: ["echo"], timeout: "5s" },
          { name: "b", description: "does b", handler: "h", fallback: "a" },
        ],
      }),
      "profile.json",
    ),
  );
  const c = await loadProfile(fixture(good.replace("does b", "does b well")));
  assert.equal(a.version, b.version);
  assert.equal(a.version, json.version);
  assert.notEqual(a.version, c.version);
  await Promise.all([a.close(), b.close(), c.close(), json.close()]);
});

test("a bad duration names file, line, column and path and says what is expected", async () => {
  const file = fixture(good.replace("timeout: 5s", "timeout: five"));
  const error = await loadError(file);
  assert.match(error.message, /profile\.yaml:8:14 workers\[0\]\.timeout: expected a duration like "5s"/);
  assert.equal(error.details.line, 8);
  assert.equal(error.details.path, "workers[0].timeout");
  assert.match(error.message, /arbiter validate/);
});

test("unknown fallback workers, duplicates and fallback cycles are caught at load", async () => {
  assert.match(
    (await loadError(fixture(good.replace("fallback: a", "fallback: zz")))).message,
    /:12:15 workers\[1\]\.fallback: unknown worker "zz"; known workers: a, b/,
  );
  assert.match(
    (await loadError(fixture(good.replace("name: b", "name: a")))).message,
    /duplicate worker name "a"/,
  );
  const cycle = good.replace("    tools: [echo]\n", "    tools: [echo]\n    fallback: b\n");
  assert.match((await loadError(fixture(cycle))).message, /fallback cycle a → b → a/);
});

test("missing tools and handlers list what the toolkits define", async () => {
  const error = await loadError(fixture(good.replace("tools: [echo]", "tools: [echo, nope]")));
  assert.match(error.message, /workers\[0\]\.tools\[1\]: unknown tool "nope"; the toolkits define: echo/);
  const handler = await loadError(
    fixture(good.replace("handler: h\n    fallback", "handler: zz\n    fallback")),
  );
  assert.match(handler.message, /workers\[1\]\.handler: unknown handler "zz"/);
});

test("YAML syntax errors, unknown keys and missing files are reported with a position", async () => {
  assert.match(
    (await loadError(fixture("name: [unclosed\n"))).message,
    /profile\.yaml:\d+:\d+ .*valid YAML or JSON/,
  );
  assert.match(
    (await loadError(fixture(good.replace("name: demo", "name: demo\ncolour: red")))).message,
    /colour/,
  );
  assert.match((await loadError("/nonexistent/profile.yaml")).message, /cannot read the profile/);
  assert.match((await loadError(fixture("name: x\nworkers: []\n"))).message, /at least one worker/);
});

test("a worker with neither model nor handler, or an unknown model, is rejected", async () => {
  const noImpl = good.replace("    handler: h\n    fallback: a", "    fallback: a");
  assert.match((await loadError(fixture(noImpl))).message, /neither a model nor a handler/);
  const unknownModel = good.replace("fallback: a", "fallback: a\n    model: gpt");
  assert.match(
    (await loadError(fixture(unknownModel))).message,
    /unknown model "gpt"; define it under models/,
  );
});

test("the version covers the profile's policies: a changed policy is a changed profile", async () => {
  const schema = readFileSync(
    new URL("../../examples/telecom/policies/schema.cedarschema", import.meta.url),
    "utf8",
  );
  const file = fixture(`${good}policies: ./policies\n`);
  const dir = dirname(file);
  mkdirSync(join(dir, "policies", "policies"), { recursive: true });
  writeFileSync(join(dir, "policies", "schema.cedarschema"), schema);
  const policy = join(dir, "policies", "policies", "all.cedar");
  writeFileSync(policy, '@id("all")\npermit (principal, action, resource);\n');
  const before = await loadProfile(file, { cache: false });
  await before.close();
  writeFileSync(
    policy,
    '@id("all")\npermit (principal, action, resource);\n@id("no-echo")\nforbid (principal, action, resource == Tool::"echo");\n',
  );
  const after = await loadProfile(file, { cache: false });
  await after.close();
  assert.notEqual(after.version, before.version);
});
