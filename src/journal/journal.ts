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
  /** Entries of `runId` with `seq > afterSeq`: one poll of a tail, which works from another process too. */
  tail?(runId: string, afterSeq: number): readonly JournalEntry[];
  /**
   * Appends unless an event was already appended for the run under `key`, in which case that entry is
   * returned with `appended: false` (listeners are not called again). Lets replayed run code re-emit safely.
   */
  appendOnce?(event: RunEvent, key: string): { entry: JournalEntry; appended: boolean };
}
