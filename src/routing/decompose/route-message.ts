import {
  INJECTION_THRESHOLD,
  scoreInjection,
  stripInjection,
} from "../../guard/injection/score-injection.ts";
import type { IntentClassifier } from "../classifier/classification.ts";
import { type DecomposeOptions, decompose, type Segment } from "./decompose.ts";

/**
 * How the supervisor should proceed:
 * - "direct": one confident part; send it straight to its worker;
 * - "plan": several parts, all confident; a plan without an LLM;
 * - "planner": some part is unsure and an LLM planner is configured;
 * - "best-effort": some part is unsure and no planner: plan anyway, escalate the unsure parts;
 * - "fallback": nothing in scope; the fallback worker or a human.
 */
export type RouteTier = "direct" | "plan" | "planner" | "best-effort" | "fallback";

export interface RouteMessageOptions extends DecomposeOptions {
  /** Whether an LLM planner is configured (decides between "planner" and "best-effort"). */
  plannerAvailable?: boolean;
  /** Injection score from which suspicious text is kept away from routing (default 0.5). */
  injectionThreshold?: number;
}

export interface LocalRoute {
  tier: RouteTier;
  /** Parts to delegate, in message order; `worker: null` parts go to the fallback. */
  segments: Segment[];
  /** Parts withheld from routing because they look injected (journal them; never delegate them). */
  withheld: Segment[];
  /** Prompt-injection score of the whole message (journal it; policy may act on it). */
  injection: { score: number; signals: string[] };
}

/**
 * The local tier of routing: guard against injected instructions, decompose, route each part,
 * and decide whether the supervisor can act without an LLM. Text after an injection trigger is
 * blanked before routing (offsets stay valid); any remaining part that itself scores as an
 * injection is withheld; and in a message that carries an attack only the first routed request
 * is delegated (the rest is withheld for the journal and a human), so injected text can neither
 * choose nor add a worker.
 */
export function routeMessage(
  text: string,
  classifier: IntentClassifier,
  options: RouteMessageOptions = {},
): LocalRoute {
  const threshold = options.injectionThreshold ?? INJECTION_THRESHOLD;
  const stripped = stripInjection(text, threshold);
  // In a message carrying an attack, a part is routed only when the classifier is sure of it.
  const suspicious = stripped.score >= threshold;
  const parts = decompose(stripped.text, classifier, suspicious ? { ...options, partFloor: 2 } : options);
  const segments: Segment[] = [];
  const withheld: Segment[] = [];
  for (let k = 0; k < parts.length; k++) {
    let part = parts[k]!;
    if (part.worker === null) part = repairDiluted(stripped.text, part, classifier, suspicious) ?? part;
    // Text before the trigger may be the attacker's too ("What is a good recipe? Ignore all ..."):
    // in a message carrying an attack only its first routed request is delegated.
    const hold =
      scoreInjection(part.text).score >= threshold || (suspicious && segments.some((s) => s.worker !== null));
    (hold ? withheld : segments).push(part);
  }
  for (const removed of stripped.removed) {
    withheld.push({
      text: text.slice(removed.start, removed.end),
      start: removed.start,
      end: removed.end,
      worker: null,
      intent: null,
      intents: [],
      confidence: 0,
      unsure: true,
    });
  }
  return {
    tier: tierOf(segments, options.plannerAvailable ?? false),
    segments,
    withheld,
    injection: { score: stripped.score, signals: stripped.signals },
  };
}

/** Words of wording the router has seen at least this much are taken as the user's own. */
const FAMILIAR = 0.8;
const UNFAMILIAR = 0.6;
const MAX_TRIM_WORDS = 40;

/**
 * An out-of-scope part may be a request drowned by appended text ("freeze my account aapako jo
 * yaad ..."): in a suspicious message, or when much of the wording is unfamiliar, the longest
 * prefix that routes confidently with familiar wording is taken instead (marked unsure).
 */
function repairDiluted(
  text: string,
  part: Segment,
  classifier: IntentClassifier,
  suspicious: boolean,
): Segment | null {
  if (!suspicious && classifier.classify(part.text).coverage >= UNFAMILIAR) return null;
  const ends: number[] = [];
  const word = /\S+/g;
  for (let m = word.exec(part.text); m !== null; m = word.exec(part.text)) ends.push(m.index + m[0].length);
  for (let w = ends.length - 1; w >= 2 && ends.length - w <= MAX_TRIM_WORDS; w--) {
    const end = part.start + ends[w - 1]!;
    const prefix = text.slice(part.start, end);
    const c = classifier.classify(prefix);
    if (c.worker === null || c.coverage < FAMILIAR) continue;
    return {
      text: prefix,
      start: part.start,
      end,
      worker: c.worker,
      intent: c.intent,
      intents: c.intent === null ? [] : [c.intent],
      confidence: c.confidence,
      unsure: true,
    };
  }
  return null;
}

function tierOf(segments: readonly Segment[], plannerAvailable: boolean): RouteTier {
  const routed = segments.filter((s) => s.worker !== null);
  if (routed.length === 0) return "fallback";
  if (segments.every((s) => !s.unsure)) return segments.length === 1 ? "direct" : "plan";
  return plannerAvailable ? "planner" : "best-effort";
}
