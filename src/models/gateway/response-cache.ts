import type { LanguageModelV4GenerateResult } from "@ai-sdk/provider";

/** A generated answer as the cache keeps it (request and response bodies dropped). */
export interface CachedResponse {
  readonly result: LanguageModelV4GenerateResult;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** Where cached answers live. Keys are already scoped per tenant and model. */
export interface ResponseCache {
  get(key: string, now: number): Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse): Promise<void>;
}

export interface MemoryResponseCacheOptions {
  /** Least recently used entries are dropped beyond this. Default 1000. */
  maxEntries?: number;
}

/** An in-process LRU cache with per-entry expiry. */
export class MemoryResponseCache implements ResponseCache {
  readonly #entries = new Map<string, CachedResponse>();
  readonly #maxEntries: number;

  constructor(options: MemoryResponseCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1000;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string, now: number): Promise<CachedResponse | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry); // most recently used last
    return entry;
  }

  async set(key: string, value: CachedResponse): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}
