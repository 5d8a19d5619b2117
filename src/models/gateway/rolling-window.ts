/** One observed call. */
export interface Sample {
  readonly at: number;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly costUsd: number;
}

/** The calls of the last `windowMs`, at most `maxSamples` of them (oldest dropped first). */
export class RollingWindow {
  readonly #windowMs: number;
  readonly #maxSamples: number;
  #samples: Sample[] = [];

  constructor(windowMs: number, maxSamples: number) {
    this.#windowMs = windowMs;
    this.#maxSamples = maxSamples;
  }

  add(sample: Sample): void {
    this.#samples.push(sample);
    this.prune(sample.at);
  }

  prune(now: number): void {
    const cutoff = now - this.#windowMs;
    let drop = Math.max(0, this.#samples.length - this.#maxSamples);
    while (drop < this.#samples.length && this.#samples[drop]!.at < cutoff) drop++;
    if (drop > 0) this.#samples = this.#samples.slice(drop);
  }

  clear(): void {
    this.#samples = [];
  }

  get size(): number {
    return this.#samples.length;
  }

  errorRate(): number {
    if (this.#samples.length === 0) return 0;
    let failed = 0;
    for (const sample of this.#samples) if (!sample.ok) failed++;
    return failed / this.#samples.length;
  }

  /** Nearest-rank percentile of call durations, `p` in (0, 1]. */
  latency(p: number): number {
    if (this.#samples.length === 0) return 0;
    const sorted = this.#samples.map((s) => s.durationMs).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  }

  /** Mean cost of the successful calls, and how many there were. */
  costPerCall(): { mean: number; calls: number } {
    let sum = 0;
    let calls = 0;
    for (const sample of this.#samples) {
      if (!sample.ok) continue;
      sum += sample.costUsd;
      calls++;
    }
    return { mean: calls === 0 ? 0 : sum / calls, calls };
  }
}
