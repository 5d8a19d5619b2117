import { randomBytes } from "node:crypto";
import { PiiType } from "../../guard/pii/finding.ts";
import { createRecognizerRegistry, type RecognizerRegistry } from "../../guard/pii/recognizer-registry.ts";
import { createTokenizer } from "../../guard/pii/tokenizer.ts";
import { openVault } from "../../guard/pii/vault.ts";
import { createMemoryVaultStore } from "../../guard/pii/vault-store/memory/memory-vault-store.ts";
import type { PiiDataset, PiiSample } from "./pii-dataset.ts";

/** Dataset entity names (Presidio) → our PII types. Labels not listed are not scored. */
export const PRESIDIO_LABELS: Readonly<Record<string, string>> = {
  CREDIT_CARD: PiiType.Card,
  IBAN_CODE: PiiType.Iban,
  US_SSN: PiiType.Ssn,
  EMAIL_ADDRESS: PiiType.Email,
  PHONE_NUMBER: PiiType.Phone,
  IP_ADDRESS: PiiType.Ip,
};

/** How predictions are matched to gold spans; also printed with the report. */
export const MATCHING_RULE =
  "a prediction matches a gold span of the same type when they overlap by at least half of the gold span; " +
  "recall = matched gold spans / gold spans, precision = matching predictions / predictions";

export interface PiiTypeMetrics {
  type: string;
  /** The dataset labels scored as this type. */
  labels: string[];
  /** Gold spans of this type. */
  support: number;
  predicted: number;
  /** Gold spans matched by a prediction. */
  matchedGold: number;
  /** Predictions matching a gold span. */
  correctPredictions: number;
  /** Predictions whose span equals a gold span exactly. */
  exact: number;
  /** `null` when undefined (no predictions, or no gold spans). */
  precision: number | null;
  recall: number | null;
  f2: number | null;
  /** Gold values of this type still present verbatim in the tokenised text. */
  leaked: number;
}

export interface PiiEvalReport {
  source?: string;
  samples: number;
  types: PiiTypeMetrics[];
  /** Sum of `leaked` over types. */
  leaked: number;
  matching: string;
  durationMs: number;
}

export interface EvalPiiOptions {
  data: PiiDataset | readonly PiiSample[];
  /** Default: the built-in recognisers with their default threshold. */
  registry?: RecognizerRegistry;
  /** Dataset label → PII type. Default {@link PRESIDIO_LABELS}. */
  labels?: Readonly<Record<string, string>>;
  onProgress?: (progress: { done: number; total: number }) => void;
  /** Injected clock for the duration. Default `performance.now`. */
  now?: () => number;
}

interface Span {
  type: string;
  start: number;
  end: number;
}

const matches = (prediction: Span, gold: Span): boolean => {
  if (prediction.type !== gold.type) return false;
  const overlap = Math.min(prediction.end, gold.end) - Math.max(prediction.start, gold.start);
  return overlap > 0 && overlap * 2 >= gold.end - gold.start;
};

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

function f2(precision: number | null, recall: number | null): number | null {
  if (precision === null || recall === null) return null;
  if (precision === 0 && recall === 0) return 0;
  return (5 * precision * recall) / (4 * precision + recall);
}

/**
 * Scores the recognisers on labelled data: precision, recall and F2 per supported type (see
 * {@link MATCHING_RULE}), and leaks — gold values still readable after tokenisation with an
 * in-memory vault.
 */
export async function evalPii(options: EvalPiiOptions): Promise<PiiEvalReport> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const samples = Array.isArray(options.data) ? options.data : (options.data as PiiDataset).samples;
  const source = Array.isArray(options.data) ? undefined : (options.data as PiiDataset).source;
  const labels = options.labels ?? PRESIDIO_LABELS;
  const registry = options.registry ?? createRecognizerRegistry();
  const tokenizer = createTokenizer({
    registry,
    vault: await openVault({ store: createMemoryVaultStore(), key: randomBytes(32) }),
  });
  const scored = [...new Set(Object.values(labels))];
  const metrics = new Map<string, PiiTypeMetrics>(
    scored.map((type) => [
      type,
      {
        type,
        labels: Object.keys(labels).filter((label) => labels[label] === type),
        support: 0,
        predicted: 0,
        matchedGold: 0,
        correctPredictions: 0,
        exact: 0,
        precision: null,
        recall: null,
        f2: null,
        leaked: 0,
      },
    ]),
  );

  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i]!;
    const gold: Array<Span & { value: string }> = [];
    for (const span of sample.spans) {
      const type = labels[span.entityType];
      if (type !== undefined) gold.push({ type, start: span.start, end: span.end, value: span.value });
    }
    const tokenized = await tokenizer.tokenize(sample.text, { tenant: "eval" });
    const predictions = tokenized.findings.filter((f) => metrics.has(f.type));
    for (const g of gold) {
      const m = metrics.get(g.type)!;
      m.support++;
      if (predictions.some((p) => matches(p, g))) m.matchedGold++;
      if (tokenized.text.includes(g.value)) m.leaked++;
    }
    for (const p of predictions) {
      const m = metrics.get(p.type)!;
      m.predicted++;
      if (gold.some((g) => matches(p, g))) m.correctPredictions++;
      if (gold.some((g) => g.type === p.type && g.start === p.start && g.end === p.end)) m.exact++;
    }
    if (options.onProgress && ((i + 1) % 100 === 0 || i + 1 === samples.length)) {
      options.onProgress({ done: i + 1, total: samples.length });
    }
  }

  const types = [...metrics.values()].map((m) => {
    const precision = ratio(m.correctPredictions, m.predicted);
    const recall = ratio(m.matchedGold, m.support);
    return { ...m, precision, recall, f2: f2(precision, recall) };
  });
  return {
    ...(source === undefined ? {} : { source }),
    samples: samples.length,
    types,
    leaked: types.reduce((sum, m) => sum + m.leaked, 0),
    matching: MATCHING_RULE,
    durationMs: now() - started,
  };
}
