import { stripInjection } from "../guard/injection/score-injection.ts";
import type { RouteIntent } from "../journal/events.ts";
import { routeMessage } from "../routing/decompose/route-message.ts";
import type { LocalRouter } from "../routing/local-router.ts";
import type { RunContext } from "./run-context.ts";

/** A part of the message no tier placed with confidence; `candidate` is the classifier's best guess. */
export interface UnsurePart {
  text: string;
  start: number;
  end: number;
  candidate?: string;
}

export interface RouteDecision {
  tier: "rules" | "classifier";
  /** The message as routing saw it: injected-looking text blanked out. Tasks are cut from this. */
  text: string;
  /** The (tokenised) message before injected-looking text was blanked. */
  original: string;
  /** Confident intents, one per worker, in message order. */
  intents: RouteIntent[];
  unsure: UnsurePart[];
  confident: boolean;
}

/**
 * Phase 3: tier-1 routing without a model. Text that looks injected is blanked first (and journaled
 * with its score), so it can neither choose nor add a worker. The profile's rules answer when they are
 * confident; otherwise the classifier trained from the workers' examples decomposes and routes the
 * message. The plan phase decides whether the planner is needed.
 */
export function route(ctx: RunContext, router: LocalRouter, message: string): RouteDecision {
  const stripped = stripInjection(message, router.injectionThreshold);
  ctx.injectionScore = stripped.score;
  if (stripped.score > 0 || stripped.removed.length > 0) {
    ctx.emit({
      type: "injection-score",
      score: stripped.score,
      signals: stripped.signals,
      withheld: stripped.removed.map((r) => ({ start: r.start, end: r.end })),
    });
  }
  const rules = router.rules.route(stripped.text);
  const text = stripped.removed.length > 0 ? stripped.text.replace(/\s+$/u, "") : message;
  let decision: RouteDecision = { tier: "rules", text, original: message, ...rules };
  if (!rules.confident && router.classifier !== undefined) {
    const local = routeMessage(message, router.classifier, {
      plannerAvailable: ctx.deps.models.planner() !== undefined,
      injectionThreshold: router.injectionThreshold,
    });
    const intents = new Map<string, RouteIntent>();
    const unsure: UnsurePart[] = [];
    for (const s of local.segments) {
      if (s.worker === null) continue;
      if (s.unsure) {
        unsure.push({ text: s.text, start: s.start, end: s.end, candidate: s.worker });
        continue;
      }
      const existing = intents.get(s.worker);
      if (existing) {
        existing.text = `${existing.text} ${s.text}`;
        existing.end = s.end;
        existing.score = Math.max(existing.score, s.confidence);
      } else {
        intents.set(s.worker, {
          worker: s.worker,
          score: s.confidence,
          text: s.text,
          start: s.start,
          end: s.end,
        });
      }
    }
    if (intents.size > 0 || unsure.length > 0) {
      decision = {
        tier: "classifier",
        text,
        original: message,
        intents: [...intents.values()],
        unsure,
        confident: unsure.length === 0 && intents.size > 0,
      };
    }
  }
  const { intents, unsure, confident } = decision;
  const reason =
    intents.length === 0 && unsure.length === 0
      ? "nothing in scope with confidence"
      : confident
        ? intents.length === 1
          ? `one confident intent: ${intents[0]!.worker}`
          : `${intents.length} confident intents`
        : `${unsure.length} part(s) of the message are unsure`;
  ctx.emit({ type: "route-decide", tier: decision.tier, confident, intents, reason });
  return decision;
}
