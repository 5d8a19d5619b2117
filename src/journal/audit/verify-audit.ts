import type { DatabaseSync } from "node:sqlite";
import { checkpointMessage, verifyCheckpoint } from "./checkpoint-key.ts";
import { batchHash, entryHash, GENESIS } from "./hash-chain.ts";

export type AuditProblemKind =
  | "edited"
  | "missing"
  | "reordered"
  | "unchained"
  | "truncated"
  | "bad-checkpoint"
  /** The file's pages could not be read (damaged): the chain is checked up to there. */
  | "unreadable";

export interface AuditProblem {
  kind: AuditProblemKind;
  /** Position in the global chain (for `unchained`: the entry's run and seq). */
  gseq?: number;
  runId?: string;
  seq?: number;
  message: string;
}

export interface AuditReport {
  ok: boolean;
  /** Entries in the whole chain (all of it is checked, with or without `runId`). */
  entries: number;
  /** With `runId`: that run's entries in the chain. */
  runEntries?: number;
  checkpoints: number;
  /** The first bad position in the chain, if any. */
  firstBadGseq: number | null;
  problems: AuditProblem[];
  durationMs: number;
}

/** A row of the journal: one entry, or (n > 1) a batch of one run's consecutive entries. */
interface LinkRow {
  gseq: number;
  run_id: string;
  seq: number;
  n: number;
  v: number;
  /** The entry's type (n = 1); null for a batch. */
  type: string | null;
  event: string;
  prev: string;
  hash: string;
}

/**
 * The hash the row should have, recomputed from its stored bytes, or undefined when the content is not
 * what the store writes (not JSON, a type column that does not match its event, not n entries).
 */
function linkHash(row: LinkRow, n: number): string | undefined {
  try {
    if (n === 1) {
      const event = JSON.parse(row.event) as { type?: unknown };
      if (event.type !== row.type) return undefined; // the column is not hashed: it must agree
      return entryHash(row.prev, {
        gseq: row.gseq,
        runId: row.run_id,
        seq: row.seq,
        v: row.v,
        eventText: row.event,
      });
    }
    const events = JSON.parse(row.event) as unknown;
    if (!Array.isArray(events) || events.length !== n) return undefined;
    return batchHash(row.prev, {
      gseq: row.gseq,
      runId: row.run_id,
      seq: row.seq,
      n,
      v: row.v,
      eventsText: row.event,
    });
  } catch {
    return undefined;
  }
}

/**
 * Recomputes the hash chain over every journal entry and checks the signed checkpoints: any edited,
 * deleted, inserted or reordered entry, and any truncation after a checkpoint, is reported with the
 * first bad position. With `runId`, only that run's problems are reported (the whole chain is checked).
 */
export function verifyAudit(db: DatabaseSync, options: { runId?: string } = {}): AuditReport {
  const started = performance.now();
  const problems: AuditProblem[] = [];
  /**
   * Reads one table in order; a page SQLite cannot read (a damaged file: a disk fault, a copy taken
   * mid-write, bytes edited by hand) ends that read as a problem, not as a crash of the verifier.
   * Whether it read the table whole; `at`: the chain position it had reached.
   */
  const reading = (what: string, read: () => void, at?: () => number): boolean => {
    try {
      read();
      return true;
    } catch (error) {
      if (typeof (error as { errcode?: unknown } | null)?.errcode !== "number") throw error;
      const gseq = at?.();
      problems.push({
        kind: "unreadable",
        ...(gseq === undefined ? {} : { gseq }),
        message: `${what} cannot be read${gseq === undefined ? "" : ` from chain entry ${gseq} on`}: ${(error as Error).message} (the database file is damaged; nothing past it could be checked)`,
      });
      return false;
    }
  };
  const chainAt = new Map<number, string>();
  /** The last seq seen of each run, in chain order: a run's entries are numbered 1, 2, 3… */
  const lastSeq = new Map<string, number>();
  reading("the journal's entries outside the chain", () => {
    for (const raw of db.prepare("SELECT run_id, seq FROM journal WHERE gseq <= 0 ORDER BY gseq").iterate()) {
      const row = raw as unknown as { run_id: string; seq: number };
      lastSeq.set(row.run_id, Math.max(lastSeq.get(row.run_id) ?? 0, row.seq));
      problems.push({
        kind: "unchained",
        runId: row.run_id,
        seq: row.seq,
        message: `journal entry ${row.run_id}#${row.seq} is not in the audit chain (journaled before it existed, or inserted around it)`,
      });
    }
  });
  let expected = 1;
  let prevHash = GENESIS;
  let entries = 0;
  let runEntries = 0;
  const journalWhole = reading(
    "the journal",
    () => {
      for (const raw of db
        .prepare(
          "SELECT gseq, run_id, seq, n, v, type, event, prev, hash FROM journal WHERE gseq > 0 ORDER BY gseq",
        )
        .iterate()) {
        const row = raw as unknown as LinkRow;
        const n = Math.max(1, row.n);
        const last = row.gseq + n - 1;
        entries += n;
        if (row.run_id === options.runId) runEntries += n;
        const where = { gseq: row.gseq, runId: row.run_id, seq: row.seq };
        const what =
          n === 1
            ? `journal entry ${row.run_id}#${row.seq} (chain ${row.gseq})`
            : `journal entries ${row.run_id}#${row.seq}..${row.seq + n - 1} (chain ${row.gseq}..${last}, one row)`;
        if (row.gseq !== expected) {
          problems.push({
            kind: "missing",
            gseq: expected,
            message: `chain entries ${expected}..${row.gseq - 1} are missing (deleted before entry ${row.gseq})`,
          });
        } else if (row.prev !== prevHash) {
          problems.push({
            kind: "reordered",
            ...where,
            message: `entry ${row.gseq} does not follow entry ${row.gseq - 1} (its previous hash differs): reordered or rewritten`,
          });
        }
        const before = lastSeq.get(row.run_id) ?? 0;
        if (row.seq > before + 1) {
          problems.push({
            kind: "missing",
            gseq: row.gseq,
            runId: row.run_id,
            seq: before + 1,
            message: `journal entr${row.seq - before > 2 ? `ies ${row.run_id}#${before + 1}..${row.seq - 1} were` : `y ${row.run_id}#${before + 1} was`} deleted (found before entry ${row.gseq})`,
          });
        }
        lastSeq.set(row.run_id, Math.max(before, row.seq + n - 1));
        chainAt.set(last, row.hash);
        if (n === 1 && row.type === "" && row.event === "") {
          // Carried over from schema 2, where an entry could lose its row but keep its chain link.
          problems.push({
            kind: "missing",
            ...where,
            message: `journal entry ${row.run_id}#${row.seq} was deleted`,
          });
        } else if (linkHash(row, n) !== row.hash) {
          problems.push({
            kind: "edited",
            ...where,
            message: `${what} was edited: its content no longer matches its hash`,
          });
        }
        expected = last + 1;
        prevHash = row.hash;
      }
    },
    () => expected,
  );
  let checkpoints = 0;
  reading("the signed checkpoints", () => {
    for (const raw of db
      .prepare("SELECT id, size, head, at, public_key, signature FROM audit_checkpoints ORDER BY id")
      .iterate()) {
      const cp = raw as unknown as {
        id: number;
        size: number;
        head: string;
        at: number;
        public_key: string;
        signature: string;
      };
      checkpoints++;
      if (!verifyCheckpoint(cp.public_key, checkpointMessage(cp.size, cp.head, cp.at), cp.signature)) {
        problems.push({
          kind: "bad-checkpoint",
          gseq: cp.size,
          message: `checkpoint ${cp.id} has a bad signature`,
        });
      } else if (!journalWhole && cp.size >= expected) {
        // Signed over entries that could not be read: nothing to compare (the damage is reported).
      } else if (cp.size > entries) {
        problems.push({
          kind: "truncated",
          gseq: entries + 1,
          message: `the chain has ${entries} entries but checkpoint ${cp.id} signed ${cp.size}: truncated after it`,
        });
      } else if (chainAt.get(cp.size) !== cp.head) {
        problems.push({
          kind: "reordered",
          gseq: cp.size,
          message: `entry ${cp.size} differs from signed checkpoint ${cp.id}: the chain was rewritten`,
        });
      }
    }
  });
  const relevant =
    options.runId === undefined
      ? problems
      : problems.filter((p) => p.runId === undefined || p.runId === options.runId);
  const firstBad = relevant.map((p) => p.gseq).filter((g): g is number => g !== undefined);
  return {
    ok: relevant.length === 0,
    entries,
    ...(options.runId === undefined ? {} : { runEntries }),
    checkpoints,
    firstBadGseq: firstBad.length > 0 ? Math.min(...firstBad) : null,
    problems: relevant,
    durationMs: performance.now() - started,
  };
}
