import type { JournalEntry } from "../journal/events.ts";

const ms = (n: number): string => `${Math.round(n)}ms`;
const short = (text: string, max = 70): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Renders journal entries as one line of live progress each (stderr), or nothing for noise. */
export function renderProgress(entry: JournalEntry, color: boolean): string | undefined {
  const c = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const e = entry.event;
  switch (e.type) {
    case "run-start":
      return `${c(1, "▸ run")} ${e.runId}  profile ${e.profile.name}@${e.profile.version.slice(0, 12)}  tenant ${e.tenant}`;
    case "run-resume":
      return `${c(1, "▸ resume")} ${e.runId} (was ${e.from}) by ${e.by}`;
    case "input-guard":
      if (e.findings === 0) return undefined;
      return `  guard   ${e.guard}: ${e.findings} value(s) tokenised${e.dataClasses.length ? ` (${e.dataClasses.join(", ")})` : ""}`;
    case "injection-score":
      return c(
        33,
        `  guard   prompt-injection score ${e.score.toFixed(2)} (${e.signals.join(", ") || "no signals"}); ${e.withheld.length} part(s) kept away from routing`,
      );
    case "route-decide":
      return `  route   ${e.tier}${e.confident ? "" : " (unsure)"}: ${e.intents.map((i) => `${i.worker} (${Math.round(i.score * 100) / 100})`).join(", ") || "no match"} — ${e.reason}`;
    case "plan-create":
      return `  plan    ${e.source}: ${e.tasks.map((t) => `${t.id}→${t.worker}${t.dependsOn.length ? ` after ${t.dependsOn.join(",")}` : ""}`).join("  ")}`;
    case "plan-reject":
      return c(33, `  plan    planner answer rejected: ${short(e.reason, 100)}`);
    case "policy-decide": {
      const what = e.kind === "tool-call" ? `${e.taskId} ${e.worker}.${e.tool}` : `${e.taskId}→${e.worker}`;
      const shadow = e.shadow?.differs
        ? ` (shadow: ${e.shadow.outcome} by ${e.shadow.policyIds.join(", ")})`
        : "";
      if (e.decision === "allow") return shadow ? `  policy  ${what} allow${shadow}` : undefined;
      const color = e.decision === "deny" ? 31 : 33;
      return c(
        color,
        `  policy  ${what} ${e.decision} by ${e.policyIds.join(", ") || "default deny"}: ${short(e.reason, 90)}${shadow}`,
      );
    }
    case "task-start":
      return `  ${c(36, "▶")} ${e.taskId} ${e.worker}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""} [${e.mode}]`;
    case "tool-call-end":
      return `    ${e.ok ? c(32, "·") : c(31, "✗")} ${e.taskId} ${e.tool} ${e.ok ? "ok" : `failed: ${short(e.error ?? "")}`}${e.replayed ? " (recorded result)" : ""} ${ms(e.durationMs)}`;
    case "model-call-end": {
      const who = e.answeredBy
        ? `${e.answeredBy.provider}:${e.answeredBy.modelId}`
        : `${e.provider}:${e.model}`;
      return `    ${e.ok ? "·" : c(31, "✗")} ${e.taskId ?? e.purpose} model ${who} ${e.usage.inputTokens}→${e.usage.outputTokens} tok ${ms(e.durationMs)}${e.ok ? "" : ` ${short(e.error ?? "")}`}`;
    }
    case "task-retry":
      return c(
        33,
        `  ↻ ${e.taskId} ${e.worker} attempt ${e.attempt} failed (${short(e.error)}); retrying in ${ms(e.delayMs)}`,
      );
    case "task-fallback":
      return c(33, `  ↪ ${e.taskId} ${e.from} → ${e.to}: ${short(e.reason)}`);
    case "task-end": {
      const mark = e.status === "ok" ? c(32, "✓") : e.status === "escalated" ? c(33, "⏸") : c(31, "✗");
      return `  ${mark} ${e.taskId} ${e.worker} ${e.status}${e.confidence ? ` (${e.confidence.toFixed(2)})` : ""} ${ms(e.durationMs)}${e.reason ? ` — ${short(e.reason, 90)}` : ""}`;
    }
    case "approval-request":
      return c(33, `  ? ${e.taskId} ${e.worker} asks a person (${e.approvalId}): ${short(e.reason, 100)}`);
    case "approval-decide":
      return c(
        33,
        `  ! ${e.taskId} ${e.approvalId} ${e.status}${e.by ? ` by ${e.by}` : ""}${e.reason ? `: ${short(e.reason, 80)}` : ""}`,
      );
    case "escalation-pending":
      return c(33, `  ⏸ ${e.taskId} waits for a person: ${e.reason}`);
    case "run-end":
      return `${c(1, "■ run")} ${e.status} in ${ms(e.durationMs)}${e.usage.modelCalls ? `, ${e.usage.modelCalls} model calls, ${e.usage.inputTokens}+${e.usage.outputTokens} tokens` : ""}`;
    case "model-hop":
      return c(
        33,
        `  ↷ model ${e.from} → ${e.to}: ${e.reason}${e.measured === undefined ? "" : ` (${Math.round(e.measured * 1000) / 1000} over ${e.threshold})`}${e.error ? ` ${short(e.error, 60)}` : ""}`,
      );
    case "model-retry":
      return c(
        33,
        `    ↻ ${e.model} attempt ${e.attempt} ${e.fault}${e.status ? ` ${e.status}` : ""}; retry in ${ms(e.delayMs)}`,
      );
    case "cache-hit":
      return `    · ${e.worker ?? "supervisor"} cache hit on ${e.model} (free)`;
    case "budget-exceed":
      return c(
        31,
        `  ✗ ${e.worker ?? "run"} budget: ${e.scope} ${e.unit} limit ${e.limit} (spent ${e.spent}, needs ${e.estimate})`,
      );
    case "warning":
      return c(33, `  warning: ${e.message}`);
    default:
      return undefined;
  }
}
