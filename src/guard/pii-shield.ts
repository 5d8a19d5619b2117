import type { RunShield, Shield } from "../supervisor/guards.ts";
import { dataClassOf } from "./pii/data-class.ts";
import { findTokens } from "./pii/token.ts";
import type { Tokenizer } from "./pii/tokenizer.ts";
import type { Vault } from "./pii/vault.ts";

export interface PiiShieldOptions {
  tokenizer: Tokenizer;
  /**
   * Seals step results that hold PII (a tool's answer) with the vault's key before they are recorded,
   * so the run database holds no personal data in clear (the journal holds tokens, the vault ciphertext).
   * Without it, step results are recorded as they are.
   */
  records?: Pick<Vault, "sealRecord" | "openRecord">;
  /** Types the requester sees restored in the answer. Default: e-mail, phone and IP; cards, IBANs and SSNs stay tokens. */
  revealToRequester?: readonly string[];
}

const DEFAULT_REVEAL = ["EMAIL", "PHONE", "IP"];

/** Tokenises PII at every boundary of a run with the given tokenizer (and its encrypted vault). */
export function createPiiShield(options: PiiShieldOptions): Shield {
  const { tokenizer, records } = options;
  const reveal = new Set(options.revealToRequester ?? DEFAULT_REVEAL);
  return {
    name: "pii",
    open(tenant: string): RunShield {
      const issued = new Set<string>();
      const remember = (tokens: readonly string[]) => {
        for (const t of tokens) issued.add(t);
      };
      const stepSealer =
        records === undefined
          ? undefined
          : {
              seal: (encoded: string, value: unknown, context: string) =>
                tokenizer.holdsPii(value) ? records.sealRecord(tenant, encoded, context) : undefined,
              open: (sealed: string, context: string) => records.openRecord(tenant, sealed, context),
            };
      return {
        ...(stepSealer === undefined ? {} : { stepSealer }),
        async protectText(text) {
          const result = await tokenizer.tokenize(text, { tenant });
          remember(result.tokens);
          return {
            text: result.text,
            findings: result.findings.length,
            dataClasses: [...new Set(result.findings.map((f) => dataClassOf(f.type)))],
          };
        },
        async protectValue(value) {
          const result = await tokenizer.tokenizeValue(value, { tenant });
          remember(result.tokens);
          return result.value;
        },
        async revealValue(value) {
          const revealed = findTokens(JSON.stringify(value) ?? "").filter((t) => issued.has(t.token));
          if (revealed.length === 0) return { value, dataClasses: [] };
          const dataClasses = [...new Set(revealed.map((t) => dataClassOf(t.type)))];
          return { value: await tokenizer.detokenizeValue(value, { tenant, tokens: issued }), dataClasses };
        },
        adopt(value) {
          for (const t of findTokens(JSON.stringify(value) ?? "")) issued.add(t.token);
        },
        async revealAnswer(text) {
          return tokenizer.detokenize(text, { tenant, tokens: issued, allow: (type) => reveal.has(type) });
        },
      };
    },
  };
}
