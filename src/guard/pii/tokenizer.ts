import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import type { RecognizerRegistry } from "./recognizer-registry.ts";
import { findTokens } from "./token.ts";
import type { Vault } from "./vault.ts";

export interface TokenizerOptions {
  registry: RecognizerRegistry;
  vault: Vault;
}

export interface TokenizeOptions {
  tenant: string;
  /** Overrides the registry's threshold for this call. */
  minScore?: number;
}

/**
 * A replaced value: its span in the input, its type, score and token. The value itself is left out
 * on purpose, so a result can be logged or journaled without leaking what it replaced.
 */
export interface TokenizedFinding {
  type: string;
  start: number;
  end: number;
  score: number;
  token: string;
}

export interface TokenizeResult {
  text: string;
  findings: TokenizedFinding[];
  /** Distinct tokens, in order of first appearance. */
  tokens: string[];
}

export interface TokenizeValueResult<T> {
  value: T;
  /**
   * Findings with the JSON path of the string they were in (as tokenised); `inKey` marks a finding
   * in an object key, whose path is the key's own (tokenised) path.
   */
  findings: Array<TokenizedFinding & { path: Array<string | number>; inKey?: boolean }>;
  tokens: string[];
}

export interface DetokenizeOptions {
  tenant: string;
  /** Which types may be restored (e.g. from a policy decision). Default: all. */
  allow?: (type: string) => boolean;
  /**
   * Restrict to these tokens (typically those issued during the run), so a token typed by a user
   * cannot pull another customer's value out of the tenant vault.
   */
  tokens?: Iterable<string>;
}

export interface Tokenizer {
  tokenize(text: string, options: TokenizeOptions): Promise<TokenizeResult>;
  /** Tokenises every string (and object key, and number that is detected as PII) in a JSON value. */
  tokenizeValue<T>(value: T, options: TokenizeOptions): Promise<TokenizeValueResult<T>>;
  /** Restores permitted tokens; unknown or forbidden tokens stay as they are. */
  detokenize(text: string, options: DetokenizeOptions): Promise<string>;
  detokenizeValue<T>(value: T, options: DetokenizeOptions): Promise<T>;
  /** Whether the recognisers find PII anywhere in a JSON value (strings, keys, long numbers); synchronous. */
  holdsPii(value: unknown): boolean;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Replaces detected PII with stable typed tokens (`<CARD_1>`, `<EMAIL_2>`) backed by the vault,
 * and restores them where permitted.
 *
 * @example
 * const tokenizer = createTokenizer({ registry: createRecognizerRegistry(), vault });
 * const { text } = await tokenizer.tokenize("card 4111 1111 1111 1111", { tenant: "acme" });
 * // text === "card <CARD_1>"
 */
export function createTokenizer(options: TokenizerOptions): Tokenizer {
  const { registry, vault } = options;

  // Strings the recognisers found nothing in at the registry's threshold. Prompts repeat most of their
  // text call after call (system prompt, earlier turns, JSON keys), so most scans end here.
  const clean = new Set<string>();
  const CLEAN_MAX_ENTRIES = 4096;
  const CLEAN_MAX_LENGTH = 4096;
  const detect = (text: string, minScore: number | undefined) => {
    if (minScore === undefined && clean.has(text)) return [];
    const found = registry.detect(text, minScore === undefined ? {} : { minScore });
    if (found.length === 0 && minScore === undefined && text.length <= CLEAN_MAX_LENGTH) {
      if (clean.size >= CLEAN_MAX_ENTRIES) clean.clear();
      clean.add(text);
    }
    return found;
  };
  /** Whether the recognisers find anything in `text` (a clean text seen before costs one lookup). */
  const hasPii = (text: string, minScore: number | undefined): boolean =>
    !(minScore === undefined && clean.has(text)) && detect(text, minScore).length > 0;
  /**
   * Whether anything in `node` (strings, keys, long numbers) holds PII: a synchronous first pass, run on
   * every tool answer and prompt message, so it allocates nothing on its way (no entry arrays or closures).
   */
  const holdsPii = (node: unknown, minScore: number | undefined, depth = 0): boolean => {
    if (typeof node === "string") return hasPii(node, minScore);
    if (typeof node === "number" || typeof node === "bigint") {
      const text = String(node);
      return text.length >= 7 && hasPii(text, minScore);
    }
    if (node === null || typeof node !== "object") return false;
    // Deep or cyclic values take the full walk, which reports a cycle.
    if (depth > 64) return true;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) if (holdsPii(node[i], minScore, depth + 1)) return true;
      return false;
    }
    if (!isPlainObject(node)) return false;
    for (const key in node) {
      if (!Object.hasOwn(node, key)) continue;
      if (hasPii(key, minScore) || holdsPii(node[key], minScore, depth + 1)) return true;
    }
    return false;
  };

  async function tokenize(text: string, opts: TokenizeOptions): Promise<TokenizeResult> {
    if (typeof text !== "string") {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        "tokenize expects a string; use tokenizeValue for JSON.",
        {
          details: { field: "text" },
        },
      );
    }
    const found = detect(text, opts.minScore);
    if (found.length === 0) return { text, findings: [], tokens: [] };
    const findings: TokenizedFinding[] = [];
    const tokens: string[] = [];
    let out = "";
    let last = 0;
    for (const f of found) {
      const token = await vault.tokenFor(opts.tenant, f.type, f.value, registry.normalize(f.type, f.value));
      out += text.slice(last, f.start) + token;
      last = f.end;
      findings.push({ type: f.type, start: f.start, end: f.end, score: f.score, token });
      if (!tokens.includes(token)) tokens.push(token);
    }
    return { text: out + text.slice(last), findings, tokens };
  }

  async function tokenizeValue<T>(value: T, opts: TokenizeOptions): Promise<TokenizeValueResult<T>> {
    // Nothing to replace (the usual case): the value itself, scanned once, without copying it.
    if (!holdsPii(value, opts.minScore)) return { value, findings: [], tokens: [] };
    const findings: TokenizeValueResult<T>["findings"] = [];
    const tokens: string[] = [];
    const seen = new WeakSet<object>();
    const collect = async (text: string, path: Array<string | number>, inKey = false): Promise<string> => {
      const result = await tokenize(text, opts);
      const at = inKey ? [...path, result.text] : path;
      for (const f of result.findings) findings.push(inKey ? { ...f, path: at, inKey } : { ...f, path: at });
      for (const t of result.tokens) if (!tokens.includes(t)) tokens.push(t);
      return result.text;
    };
    const walk = async (node: unknown, path: Array<string | number>): Promise<unknown> => {
      if (typeof node === "string") return collect(node, path);
      if (typeof node === "number" || typeof node === "bigint") {
        // A card number sent as a JSON number is still a card number.
        const text = String(node);
        const replaced = text.length >= 7 ? await collect(text, path) : text;
        return replaced === text ? node : replaced;
      }
      if (node === null || typeof node !== "object") return node;
      if (seen.has(node)) {
        throw new ArbiterError(ErrorCode.InvalidArgument, "tokenizeValue cannot walk a cyclic value.", {
          details: { path },
        });
      }
      seen.add(node);
      try {
        if (Array.isArray(node)) {
          const out: unknown[] = [];
          for (let i = 0; i < node.length; i++) out.push(await walk(node[i], [...path, i]));
          return out;
        }
        if (!isPlainObject(node)) return node;
        const out: Record<string, unknown> = {};
        for (const [key, child] of Object.entries(node)) {
          const safeKey = await collect(key, path, true);
          out[safeKey] = await walk(child, [...path, safeKey]);
        }
        return out;
      } finally {
        seen.delete(node);
      }
    };
    return { value: (await walk(value, [])) as T, findings, tokens };
  }

  async function detokenize(text: string, opts: DetokenizeOptions): Promise<string> {
    const refs = findTokens(text);
    if (refs.length === 0) return text;
    const only = opts.tokens === undefined ? undefined : new Set(opts.tokens);
    const values = new Map<string, string | undefined>();
    for (const ref of refs) {
      if (values.has(ref.token)) continue;
      const permitted = (only === undefined || only.has(ref.token)) && (opts.allow?.(ref.type) ?? true);
      values.set(ref.token, permitted ? (await vault.reveal(opts.tenant, ref.token))?.value : undefined);
    }
    let out = "";
    let last = 0;
    for (const ref of refs) {
      const value = values.get(ref.token);
      if (value === undefined) continue;
      out += text.slice(last, ref.start) + value;
      last = ref.end;
    }
    return out + text.slice(last);
  }

  async function detokenizeValue<T>(value: T, opts: DetokenizeOptions): Promise<T> {
    const walk = async (node: unknown): Promise<unknown> => {
      if (typeof node === "string") return detokenize(node, opts);
      if (Array.isArray(node)) {
        const out: unknown[] = [];
        for (const item of node) out.push(await walk(item));
        return out;
      }
      if (!isPlainObject(node)) return node;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) out[await detokenize(key, opts)] = await walk(child);
      return out;
    };
    return (await walk(value)) as T;
  }

  return {
    tokenize,
    tokenizeValue,
    detokenize,
    detokenizeValue,
    holdsPii: (value) => holdsPii(value, undefined),
  };
}
