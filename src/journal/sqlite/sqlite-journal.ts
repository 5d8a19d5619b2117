import { abortableDelay } from "../../durable/abortable-delay.ts";
import type { Store } from "../../store/store.ts";
import type { JournalEntry, RunEvent } from "../events.ts";
import type { Journal, JournalListener } from "../journal.ts";

export interface FollowOptions {
  /** Start after this seq (default 0: from the first entry). */
  afterSeq?: number;
  /** How often to look for new entries. Default 100 ms. */
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

/**
 * The run journal on the store's database (normally `SqliteStore`): appended synchronously, numbered
 * per run from 1 without gaps, never updated or deleted (the table's triggers refuse it). Other
 * processes stream a run with `tail`/`follow`; `subscribe` sees this process's appends.
 */
export class SqliteJournal implements Journal {
  readonly #store: Store;
  readonly #listeners = new Set<{ listener: JournalListener; runId: string | undefined }>();

  constructor(store: Store) {
    this.#store = store;
  }

  append(event: RunEvent): JournalEntry {
    const { entry } = this.#store.appendEvent(event);
    this.#notify(entry);
    return entry;
  }

  appendOnce(event: RunEvent, key: string): { entry: JournalEntry; appended: boolean } {
    const outcome = this.#store.appendEvent(event, key);
    if (outcome.appended) this.#notify(outcome.entry);
    return outcome;
  }

  read(runId: string): readonly JournalEntry[] {
    return this.#store.readEvents(runId);
  }

  tail(runId: string, afterSeq: number): readonly JournalEntry[] {
    return this.#store.readEvents(runId, afterSeq);
  }

  subscribe(listener: JournalListener, runId?: string): () => void {
    const handle = { listener, runId };
    this.#listeners.add(handle);
    return () => this.#listeners.delete(handle);
  }

  /**
   * Streams a run's entries as they are appended by any process, ending after `run-end` or when
   * `signal` aborts (then it returns quietly).
   */
  async *follow(runId: string, options: FollowOptions = {}): AsyncGenerator<JournalEntry> {
    let after = options.afterSeq ?? 0;
    const pollMs = options.pollIntervalMs ?? 100;
    while (options.signal?.aborted !== true) {
      for (const entry of this.tail(runId, after)) {
        after = entry.seq;
        yield entry;
        if (entry.event.type === "run-end") return;
      }
      try {
        await abortableDelay(pollMs, options.signal);
      } catch {
        return;
      }
    }
  }

  #notify(entry: JournalEntry): void {
    if (this.#listeners.size === 0) return;
    for (const { listener, runId } of this.#listeners) {
      if (runId === undefined || runId === entry.event.runId) listener(entry);
    }
  }
}
