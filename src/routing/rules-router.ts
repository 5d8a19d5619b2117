import type { RouteIntent } from "../journal/events.ts";
import type { RoutingRules } from "../profile/schema.ts";

/** A piece of the message between separators such as ". ", "; ", ", and ", " also ". */
export interface Clause {
  text: string;
  start: number;
  end: number;
}

interface CompiledRule {
  regex: RegExp;
  weight: number;
}

interface CompiledWorker {
  name: string;
  rules: CompiledRule[];
  exclude: RegExp[];
}

export interface RulesRouting {
  /** One entry per worker with at least one confident clause, in order of first appearance. */
  intents: RouteIntent[];
  /** Clauses where two workers tied, or the best score stayed below the threshold. */
  unsure: Clause[];
  /** True when every clause that scored anything has exactly one confident worker and at least one intent exists. */
  confident: boolean;
}

const SEPARATOR =
  /(?:[.!?;]+\s+|[.!?;]+$|\n+|,\s*(?:and\s+also|and\s+then|and|but|plus|also)\s+|,\s+|\s+(?:and\s+also|and\s+then|as\s+well\s+as|plus|also|but|and)\s+)/giu;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** "refund" matches the word; "overcharg*" matches words starting with "overcharg". */
function keywordRegex(term: string): RegExp {
  const prefix = term.endsWith("*");
  const body = escapeRegex(prefix ? term.slice(0, -1) : term).replace(/\s+/g, "\\s+");
  return new RegExp(`(?<![\\p{L}\\p{N}])${body}${prefix ? "" : "(?![\\p{L}\\p{N}])"}`, "iu");
}

/** Splits a message into clauses at sentence ends and coordinating connectives. */
export function splitClauses(message: string): Clause[] {
  const clauses: Clause[] = [];
  let start = 0;
  SEPARATOR.lastIndex = 0;
  for (let m = SEPARATOR.exec(message); m !== null; m = SEPARATOR.exec(message)) {
    if (m[0].length === 0) {
      SEPARATOR.lastIndex++;
      continue;
    }
    // A sentence keeps its own ".", "!" or "?"; connectives and commas are dropped.
    const punctuation = /^[.!?]+/u.exec(m[0])?.[0].length ?? 0;
    pushClause(clauses, message, start, m.index + punctuation);
    start = m.index + m[0].length;
  }
  pushClause(clauses, message, start, message.length);
  return clauses;
}

function pushClause(out: Clause[], message: string, start: number, end: number): void {
  let s = start;
  let e = end;
  while (s < e && /\s/u.test(message[s]!)) s++;
  while (e > s && /\s/u.test(message[e - 1]!)) e--;
  if (e > s) out.push({ text: message.slice(s, e), start: s, end: e });
}

/**
 * Tier-1 router: keyword and pattern rules per worker, scored per clause.
 * Deterministic, allocation-light, no model call.
 */
export class RulesRouter {
  readonly #workers: CompiledWorker[];
  readonly #threshold: number;

  constructor(workers: ReadonlyArray<{ name: string; routing: RoutingRules }>, threshold = 1) {
    this.#threshold = threshold;
    this.#workers = workers.map((w) => ({
      name: w.name,
      rules: [
        ...w.routing.keywords.map((k) =>
          typeof k === "string"
            ? { regex: keywordRegex(k), weight: 1 }
            : { regex: keywordRegex(k.term), weight: k.weight },
        ),
        ...w.routing.patterns.map((p) =>
          typeof p === "string"
            ? { regex: new RegExp(p, "iu"), weight: 1 }
            : { regex: new RegExp(p.pattern, "iu"), weight: p.weight },
        ),
      ],
      exclude: w.routing.exclude.map(keywordRegex),
    }));
  }

  /** Scores of one text for every worker (0 when nothing matched or an exclusion hit). */
  score(text: string): Map<string, number> {
    const scores = new Map<string, number>();
    for (const worker of this.#workers) {
      let total = 0;
      for (const rule of worker.rules) if (rule.regex.test(text)) total += rule.weight;
      if (total > 0 && worker.exclude.some((x) => x.test(text))) total = 0;
      scores.set(worker.name, total);
    }
    return scores;
  }

  route(message: string): RulesRouting {
    const clauses = splitClauses(message);
    const assigned: Array<{ clause: Clause; worker: string | null; score: number; sure: boolean }> = [];
    for (const clause of clauses) {
      let best: string | null = null;
      let bestScore = 0;
      let second = 0;
      for (const [worker, score] of this.score(clause.text)) {
        if (score > bestScore) {
          second = bestScore;
          bestScore = score;
          best = worker;
        } else if (score > second) second = score;
      }
      const sure = best !== null && bestScore >= this.#threshold && bestScore > second;
      assigned.push({ clause, worker: bestScore > 0 ? best : null, score: bestScore, sure });
    }
    // A clause with no signal belongs to the intent before it ("… slow internet, it keeps dropping").
    for (let i = 0; i < assigned.length; i++) {
      const a = assigned[i]!;
      if (a.worker !== null) continue;
      const neighbour = assigned[i - 1]?.sure ? assigned[i - 1] : undefined;
      if (neighbour) {
        a.worker = neighbour.worker;
        a.sure = true;
      }
    }
    const byWorker = new Map<string, RouteIntent>();
    const unsure: Clause[] = [];
    for (const a of assigned) {
      if (a.worker === null) continue;
      if (!a.sure) {
        unsure.push(a.clause);
        continue;
      }
      const existing = byWorker.get(a.worker);
      if (existing === undefined) {
        byWorker.set(a.worker, {
          worker: a.worker,
          score: a.score,
          text: a.clause.text,
          start: a.clause.start,
          end: a.clause.end,
        });
      } else {
        existing.score += a.score;
        existing.text = `${existing.text}${/[.!?]$/u.test(existing.text) ? " " : "; "}${a.clause.text}`;
        existing.end = a.clause.end;
      }
    }
    const intents = [...byWorker.values()];
    return { intents, unsure, confident: intents.length > 0 && unsure.length === 0 };
  }
}
