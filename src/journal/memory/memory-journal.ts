import { EVENT_SCHEMA_VERSION, type JournalEntry, type RunEvent } from "../events.ts";
import type { Journal, JournalListener } from "../journal.ts";

export interface MemoryJournalOptions {
  /** Finished runs kept for reading; the oldest finished runs are dropped past this. */
  maxFinishedRuns?: number;
}

/** In-process journal: tests, the benchmark, and runs that need no durability. */
export class MemoryJournal implements Journal {
  readonly #runs = new Map<string, JournalEntry[]>();
  readonly #keys = new Map<string, Map<string, JournalEntry>>();
  readonly #finished: string[] = [];
  readonly #maxFinished: number;
  readonly #listeners = new Set<{ listener: JournalListener; runId: string | undefined }>();

  constructor(options: MemoryJournalOptions = {}) {
    this.#maxFinished = options.maxFinishedRuns ?? 10_000;
  }

  append(event: RunEvent): JournalEntry {
    let entries = this.#runs.get(event.runId);
    if (entries === undefined) {
      entries = [];
      this.#runs.set(event.runId, entries);
    }
    const entry: JournalEntry = { seq: entries.length + 1, v: EVENT_SCHEMA_VERSION, event };
    entries.push(entry);
    if (this.#listeners.size > 0) {
      for (const { listener, runId } of this.#listeners) {
        if (runId === undefined || runId === event.runId) listener(entry);
      }
    }
    if (event.type === "run-end") this.#retire(event.runId);
    return entry;
  }

  read(runId: string): readonly JournalEntry[] {
    return this.#runs.get(runId) ?? [];
  }

  tail(runId: string, afterSeq: number): readonly JournalEntry[] {
    return (this.#runs.get(runId) ?? []).slice(Math.max(0, afterSeq));
  }

  appendOnce(event: RunEvent, key: string): { entry: JournalEntry; appended: boolean } {
    let keys = this.#keys.get(event.runId);
    const existing = keys?.get(key);
    if (existing !== undefined) return { entry: existing, appended: false };
    if (keys === undefined) {
      keys = new Map();
      this.#keys.set(event.runId, keys);
    }
    const entry = this.append(event);
    keys.set(key, entry);
    return { entry, appended: true };
  }

  subscribe(listener: JournalListener, runId?: string): () => void {
    const handle = { listener, runId };
    this.#listeners.add(handle);
    return () => this.#listeners.delete(handle);
  }

  #retire(runId: string): void {
    this.#finished.push(runId);
    while (this.#finished.length > this.#maxFinished) {
      const oldest = this.#finished.shift();
      if (oldest !== undefined) {
        this.#runs.delete(oldest);
        this.#keys.delete(oldest);
      }
    }
  }
}
