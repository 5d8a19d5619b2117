import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { dataClassOf as builtinDataClassOf } from "./data-class.ts";
import { type Finding, PII_TYPE_PATTERN, type Recognizer } from "./finding.ts";
import { createCardRecognizer } from "./recognizers/card-recognizer.ts";
import { createEmailRecognizer } from "./recognizers/email-recognizer.ts";
import { createIbanRecognizer } from "./recognizers/iban-recognizer.ts";
import { createIpRecognizer } from "./recognizers/ip-recognizer.ts";
import { createPhoneRecognizer } from "./recognizers/phone-recognizer.ts";
import { createSsnRecognizer } from "./recognizers/ssn-recognizer.ts";
import { resolveOverlaps } from "./resolve-overlaps.ts";

export interface RecognizerRegistryOptions {
  /** Register the built-in recognisers (card, IBAN, SSN, e-mail, phone, IP). Default true. */
  builtins?: boolean;
  /** Findings scoring below this are dropped. Default 0.5. */
  minScore?: number;
  /** Regions for numbers written without a country code, the first being the default. Default `["US"]`. */
  phoneRegions?: readonly string[];
}

export interface RecognizerRegistry {
  /** Adds a recogniser. Several recognisers may share a type; their findings are merged. */
  registerRecognizer(recognizer: Recognizer): void;
  /** Removes every recogniser of `type`; returns how many were removed. */
  unregisterRecognizer(type: string): number;
  /** Non-overlapping findings at or above the threshold, sorted by start. */
  detect(text: string, options?: { minScore?: number }): Finding[];
  /** Registered types, in registration order. */
  types(): string[];
  /** The data class of `type` (declared by its recogniser, else the built-in mapping). */
  dataClassOf(type: string): string;
  /** The canonical form of a value of `type`, used to give equal values one token. */
  normalize(type: string, value: string): string;
  readonly minScore: number;
}

function checkScore(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ArbiterError(ErrorCode.InvalidArgument, `${field} must be a number in [0, 1], got ${value}.`, {
      details: { field },
    });
  }
  return value;
}

/**
 * A set of recognisers. Each registry is independent (no module state), so tenants or profiles
 * can register their own custom recognisers.
 *
 * @example
 * const registry = createRecognizerRegistry();
 * registry.registerRecognizer({
 *   type: "EMPLOYEE_ID",
 *   detect: (text) => [...text.matchAll(/\bEMP-\d{6}\b/g)].map((m) => ({
 *     type: "EMPLOYEE_ID", start: m.index, end: m.index + m[0].length, score: 0.9, value: m[0],
 *   })),
 * });
 */
export function createRecognizerRegistry(options: RecognizerRegistryOptions = {}): RecognizerRegistry {
  const minScore = checkScore(options.minScore ?? 0.5, "minScore");
  const recognizers: Recognizer[] = [];
  const byType = new Map<string, Recognizer>();

  const registry: RecognizerRegistry = {
    minScore,
    registerRecognizer(recognizer) {
      if (typeof recognizer?.detect !== "function" || !PII_TYPE_PATTERN.test(recognizer.type ?? "")) {
        throw new ArbiterError(
          ErrorCode.InvalidArgument,
          `A recogniser needs a type matching ${PII_TYPE_PATTERN} (it becomes the token label, e.g. <EMPLOYEE_ID_1>) and a detect(text) function; got type ${JSON.stringify(recognizer?.type)}.`,
          { details: { field: "type" } },
        );
      }
      recognizers.push(recognizer);
      if (!byType.has(recognizer.type)) byType.set(recognizer.type, recognizer);
    },
    unregisterRecognizer(type) {
      let removed = 0;
      for (let i = recognizers.length - 1; i >= 0; i--) {
        if (recognizers[i]!.type === type) {
          recognizers.splice(i, 1);
          removed++;
        }
      }
      byType.delete(type);
      const next = recognizers.find((r) => r.type === type);
      if (next) byType.set(type, next);
      return removed;
    },
    detect(text, detectOptions = {}) {
      const threshold = detectOptions.minScore ?? minScore;
      const all: Finding[] = [];
      for (const recognizer of recognizers) {
        for (const finding of recognizer.detect(text)) {
          if (finding.score >= threshold && finding.end > finding.start) all.push(finding);
        }
      }
      return resolveOverlaps(all);
    },
    types() {
      return [...byType.keys()];
    },
    dataClassOf(type) {
      return byType.get(type)?.dataClass ?? builtinDataClassOf(type);
    },
    normalize(type, value) {
      const normalize = byType.get(type)?.normalize;
      return normalize ? normalize(value) : value;
    },
  };

  if (options.builtins ?? true) {
    registry.registerRecognizer(createCardRecognizer());
    registry.registerRecognizer(createIbanRecognizer());
    registry.registerRecognizer(createSsnRecognizer());
    registry.registerRecognizer(createEmailRecognizer());
    registry.registerRecognizer(
      createPhoneRecognizer(options.phoneRegions ? { regions: options.phoneRegions } : {}),
    );
    registry.registerRecognizer(createIpRecognizer());
  }
  return registry;
}
