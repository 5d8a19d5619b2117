import type { JournalEntry, RunEvent } from "./events.ts";

export type JournalListener = (entry: JournalEntry) => void;

/**
 * The run journal port: the single source for resume, audit, streaming and traces.
 * Appends are synchronous and ordered per run.
 */
export interface Journal {
  append(event: RunEvent): JournalEntry;
  read(runId: string): readonly JournalEntry[];
  /** Calls `listener` for every entry appended after this call; returns an unsubscribe function. */
  subscribe(listener: JournalListener, runId?: string): () => void;
}
