import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { DerivedCache } from "../../profile/derived-cache.ts";
import type { PolicyBundle } from "../decision.ts";
import { compilePolicyBundle, POLICY_DIR, SCHEMA_FILE } from "./compile-policy-bundle.ts";

/**
 * Loads a policy bundle: `<dir>/schema.cedarschema` and every `<dir>/policies/*.cedar`.
 * Validates it against the schema (strict), versions it by content and pre-parses it once.
 * With a `cache` (see `openDerivedCache`), a bundle that validated before skips validation.
 * Throws `ArbiterError` (`policy-error`) naming file:line:column for every problem.
 * @example
 * const bundle = loadPolicyBundle("examples/telecom/policies");
 * bundle.decide(toolCallRequest({ worker: "billing", tool: "issue_credit", ... })).outcome;
 */
export function loadPolicyBundle(
  dir: string,
  options: { cache?: DerivedCache | undefined } = {},
): PolicyBundle {
  const absolute = resolve(dir);
  const displayRoot = relative(process.cwd(), absolute) || ".";
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(join(absolute, path), "utf8");
    } catch (cause) {
      throw new ArbiterError(
        ErrorCode.PolicyError,
        `${displayRoot}/${path}: cannot read the ${what} (${(cause as NodeJS.ErrnoException).code ?? "error"}). ` +
          `A policy bundle is a folder with ${SCHEMA_FILE} and a ${POLICY_DIR}/ folder of .cedar files.`,
        { cause, details: { file: `${displayRoot}/${path}` } },
      );
    }
  };
  const schema = read(SCHEMA_FILE, "schema");
  let names: string[];
  try {
    names = readdirSync(join(absolute, POLICY_DIR), { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".cedar"))
      .map((entry) => entry.name);
  } catch (cause) {
    throw new ArbiterError(
      ErrorCode.PolicyError,
      `${displayRoot}/${POLICY_DIR}: cannot list the policy files (${(cause as NodeJS.ErrnoException).code ?? "error"}). ` +
        `Put the .cedar files in a ${POLICY_DIR}/ folder beside ${SCHEMA_FILE}.`,
      { cause, details: { file: `${displayRoot}/${POLICY_DIR}` } },
    );
  }
  const policies = names.map((name) => ({ name, text: read(`${POLICY_DIR}/${name}`, "policy file") }));
  return compilePolicyBundle({ displayRoot, schema, policies }, options);
}
