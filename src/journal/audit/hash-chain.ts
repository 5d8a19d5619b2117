import { hash } from "node:crypto";

/** The hash before the first entry of a chain. */
export const GENESIS = "0".repeat(64);

/** What an entry's hash covers: its place in the chain and the run, its format version, and its event. */
export interface ChainedEntry {
  gseq: number;
  runId: string;
  seq: number;
  v: number;
  /** The event as stored: canonical JSON (sorted keys, no whitespace). */
  eventText: string;
}

/**
 * SHA-256 over the previous entry's hash and the canonical JSON of this entry
 * (`{"event":…,"gseq":…,"runId":…,"seq":…,"v":…}`, keys sorted, no whitespace).
 */
export function entryHash(prev: string, entry: ChainedEntry): string {
  // One-shot hash of the concatenation: the same digest as updating with each part, without a Hash object.
  return hash(
    "sha256",
    `${prev}{"event":${entry.eventText},"gseq":${entry.gseq},"runId":${JSON.stringify(entry.runId)},"seq":${entry.seq},"v":${entry.v}}`,
  );
}
