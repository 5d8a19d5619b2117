/**
 * Maps 32-bit feature hashes to dense column numbers (open addressing, linear probing).
 * Only features seen in training get a column, so the weight matrix stays small and unknown
 * words cost one probe at routing time.
 */
export class FeatureIndex {
  private keys: Int32Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 1024) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.keys = new Int32Array(size);
    this.values = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Column of `hash`, or -1. `hash` is never 0 (the featurizer guarantees it). */
  get(hash: number): number {
    const keys = this.keys;
    let slot = hash & this.mask;
    for (;;) {
      const key = keys[slot]!;
      if (key === hash) return this.values[slot]!;
      if (key === 0) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Column of `hash`, adding it if new. */
  add(hash: number): number {
    if ((this.count + 1) * 2 > this.keys.length) this.rehash();
    let slot = hash & this.mask;
    for (;;) {
      const key = this.keys[slot]!;
      if (key === hash) return this.values[slot]!;
      if (key === 0) {
        this.keys[slot] = hash;
        this.values[slot] = this.count;
        return this.count++;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** The hashes by column: `hashesInColumnOrder()[c]` is the hash of column `c`. */
  hashesInColumnOrder(): Int32Array {
    const hashes = new Int32Array(this.count);
    for (let s = 0; s < this.keys.length; s++) {
      if (this.keys[s] !== 0) hashes[this.values[s]!] = this.keys[s]!;
    }
    return hashes;
  }

  /** The index whose column `c` is `hashes[c]`; undefined if a hash is 0 or repeated. */
  static ofColumns(hashes: Int32Array): FeatureIndex | undefined {
    const index = new FeatureIndex(Math.max(1024, hashes.length));
    for (let c = 0; c < hashes.length; c++) {
      if (hashes[c] === 0 || index.add(hashes[c]!) !== c) return undefined;
    }
    return index;
  }

  private rehash(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Int32Array(oldKeys.length * 2);
    this.values = new Int32Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    for (let s = 0; s < oldKeys.length; s++) {
      const key = oldKeys[s]!;
      if (key === 0) continue;
      let slot = key & this.mask;
      while (this.keys[slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys[slot] = key;
      this.values[slot] = oldValues[s]!;
    }
  }
}
