import { hash } from "node:crypto";

/** The hash before the first entry of a chain. */
export const GENESIS = "0".repeat(64);

/** What an entry's hash covers: its place in the chain and the run, its format version, and its event. */
export interface ChainedEntry {
  gseq: number;
  runId: string;
  seq: number;
  v: number;
  /** The event as stored: its JSON text, byte for byte (the hash covers exactly what is stored). */
  eventText: string;
}

/**
 * SHA-256 over the previous entry's hash and `{"event":…,"gseq":…,"runId":…,"seq":…,"v":…}` (the
 * event's stored JSON text verbatim). Entries written before schema 4 stored canonical JSON (sorted
 * keys); later ones store `JSON.stringify` output, ~4× cheaper: either way the hash covers the bytes.
 */
export function entryHash(prev: string, entry: ChainedEntry): string {
  // One-shot hash of the concatenation: the same digest as updating with each part, without a Hash object.
  return hash(
    "sha256",
    `${prev}{"event":${entry.eventText},"gseq":${entry.gseq},"runId":${JSON.stringify(entry.runId)},"seq":${entry.seq},"v":${entry.v}}`,
  );
}

/** What the hash of a batch covers: one run's consecutive entries, stored as one row. */
export interface ChainedBatch {
  /** Chain position of the first entry; the batch takes positions gseq..gseq+n-1. */
  gseq: number;
  runId: string;
  /** Seq of the first entry; the batch holds seq..seq+n-1. */
  seq: number;
  n: number;
  v: number;
  /** The entries as stored: a JSON array of their JSON texts, no whitespace. */
  eventsText: string;
}

/**
 * The hash of a batch of n > 1 entries, one link of the chain: SHA-256 over the previous link's hash
 * and `{"events":[…],"gseq":…,"n":…,"runId":…,"seq":…,"v":…}` (keys sorted, no whitespace). A batch of
 * one entry is hashed as that entry (`entryHash`).
 */
export function batchHash(prev: string, batch: ChainedBatch): string {
  return hash(
    "sha256",
    `${prev}{"events":${batch.eventsText},"gseq":${batch.gseq},"n":${batch.n},"runId":${JSON.stringify(batch.runId)},"seq":${batch.seq},"v":${batch.v}}`,
  );
}
