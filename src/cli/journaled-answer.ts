import type { JournalEntry } from "../journal/events.ts";

/**
 * The answer of the run's last `run-end` entry: what the journal keeps (personal data as tokens, never
 * values). What a log prints, as a log is not the requester.
 */
export function journaledAnswer(entries: readonly JournalEntry[]): string {
  for (let i = entries.length - 1; i >= 0; i--) {
    const event = entries[i]!.event;
    if (event.type === "run-end") return event.answer;
  }
  return "";
}
