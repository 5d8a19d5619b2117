import { accessSync, constants, existsSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { loadCheckpointSigner } from "../../journal/audit/checkpoint-key.ts";
import { verifyAudit } from "../../journal/audit/verify-audit.ts";
import { storeError } from "../../store/sqlite/sqlite-error.ts";
import { SqliteStore } from "../../store/sqlite/sqlite-store.ts";
import { companionFiles } from "../../supervisor/companion-files.ts";
import type { Command } from "../main.ts";
import { mayWrite, openStore } from "../open-store.ts";
import { parse } from "../parse.ts";

const usage = [
  "arbiter audit verify [--run <id>] [--json] [--db path]",
  "       arbiter audit export [--run <id>] [--out file.jsonl] [--checkpoints file.jsonl] [--db path]",
].join("\n");

/** Refuses an output path whose folder is missing or that cannot be written, saying which. */
function writableFile(option: string, file: string): void {
  const folder = dirname(file);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `${option} ${file}: the folder ${folder} does not exist; create it or write elsewhere`,
      { details: { field: option.slice(2), path: file } },
    );
  }
  try {
    accessSync(existsSync(file) ? file : folder, constants.W_OK);
  } catch {
    throw new ArbiterError(ErrorCode.InvalidArgument, `${option} ${file}: not writable by this user`, {
      details: { field: option.slice(2), path: file },
    });
  }
}

export const auditCommand: Command = {
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    const { values } = parse(
      rest,
      {
        run: { type: "string" },
        json: { type: "boolean" },
        db: { type: "string" },
        out: { type: "string" },
        checkpoints: { type: "string" },
      },
      usage,
    );
    const probe = openStore(values.db, io, "read");
    const path = probe.path;
    const known = typeof values.run !== "string" || probe.getRun(values.run) !== undefined;
    probe.close();
    if (!known) {
      throw new ArbiterError(
        ErrorCode.UnknownRun,
        `no run "${values.run}" in ${path}; \`arbiter runs list\` shows the runs (without --run: all of them)`,
      );
    }
    if (sub === "verify") {
      const store = openStore(values.db, io, "read");
      try {
        const report = verifyAudit(
          store.database,
          typeof values.run === "string" ? { runId: values.run } : {},
        );
        const rate = Math.round(report.entries / Math.max(report.durationMs / 1000, 1e-6));
        if (values.json) io.out(`${JSON.stringify({ ...report, entriesPerSec: rate })}\n`);
        else if (report.ok) {
          const run =
            report.runEntries === undefined
              ? ""
              : `run ${values.run as string}: ${report.runEntries} entries, in a chain of `;
          io.out(
            `audit ok: ${run}${report.entries} entries, ${report.checkpoints} signed checkpoints (${rate} entries/s)\n`,
          );
        } else {
          io.out(`audit FAILED at chain entry ${report.firstBadGseq ?? "?"}:\n`);
          for (const p of report.problems.slice(0, 20)) io.out(`  ${p.kind}: ${p.message}\n`);
          if (report.problems.length > 20) io.out(`  … and ${report.problems.length - 20} more\n`);
          if (report.problems.some((p) => p.kind === "unreadable")) {
            io.out(
              `  ${path} is damaged: \`sqlite3 ${path} "PRAGMA integrity_check"\` says where. Keep the file as it is ` +
                "(it is the evidence); `sqlite3 <file> .recover` copies what is readable into a new one.\n",
            );
          }
        }
        return report.ok ? 0 : 1;
      } finally {
        store.close();
      }
    }
    if (sub === "export") {
      // A fresh checkpoint first, so the export ends on a signed head.
      // Where the files go must be writable before anything is signed or read.
      for (const option of ["out", "checkpoints"] as const) {
        const target = values[option];
        if (typeof target === "string") writableFile(`--${option}`, resolve(target));
      }
      // With write access, a fresh checkpoint first, so the export ends on a signed head; the key that
      // signs it is beside the database (as the runtime opens it). Read access exports what is there.
      const signing = mayWrite(path);
      let store: SqliteStore;
      if (signing) {
        const companions = companionFiles(path, { env: io.env, databaseExisted: true });
        if (companions.notes.auditKeyFile) io.err(`arbiter: note: ${companions.notes.auditKeyFile}\n`);
        const signer = loadCheckpointSigner({ env: io.env, file: companions.auditKeyFile });
        store = new SqliteStore({ path, signer });
      } else store = openStore(values.db, io, "read");
      try {
        if (signing) store.checkpoint();
        else {
          const { head, signed } = store.database
            .prepare(
              "SELECT (SELECT MAX(gseq + n - 1) FROM journal) AS head, (SELECT MAX(size) FROM audit_checkpoints) AS signed",
            )
            .get() as { head: number | null; signed: number | null };
          if ((head ?? 0) > (signed ?? 0)) {
            io.err(
              `arbiter: note: read-only access to ${path}, so no fresh checkpoint was signed: chain entries ${(signed ?? 0) + 1}–${head} ` +
                "are covered by the hash chain but by no signed checkpoint yet (the next run, or an export with write access, signs them)\n",
            );
          }
        }
        const db = store.database;
        const where = typeof values.run === "string" ? "AND run_id = ?" : "";
        const params = typeof values.run === "string" ? [values.run] : [];
        const lines: string[] = [];
        let entries = 0;
        for (const raw of db
          .prepare(
            `SELECT gseq, run_id, seq, n, prev, hash, v, event FROM journal WHERE gseq > 0 ${where} ORDER BY gseq`,
          )
          .iterate(...params)) {
          const r = raw as {
            gseq: number;
            run_id: string;
            seq: number;
            n: number;
            prev: string;
            hash: string;
            v: number;
            event: string;
          };
          // One line per link of the chain: an entry, or a batch of one run's consecutive entries.
          lines.push(
            r.n === 1
              ? `{"gseq":${r.gseq},"runId":${JSON.stringify(r.run_id)},"seq":${r.seq},"v":${r.v},"prev":"${r.prev}","hash":"${r.hash}","event":${r.event}}`
              : `{"gseq":${r.gseq},"runId":${JSON.stringify(r.run_id)},"seq":${r.seq},"n":${r.n},"v":${r.v},"prev":"${r.prev}","hash":"${r.hash}","events":${r.event}}`,
          );
          entries += r.n;
        }
        const text = lines.length > 0 ? `${lines.join("\n")}\n` : "";
        if (typeof values.out === "string") writeFileSync(resolve(values.out), text);
        else io.out(text);
        if (typeof values.checkpoints === "string") {
          const cps = db
            .prepare(
              "SELECT size, head, at, public_key AS publicKey, signature FROM audit_checkpoints ORDER BY id",
            )
            .all();
          writeFileSync(
            resolve(values.checkpoints),
            cps.map((c) => JSON.stringify(c)).join("\n") + (cps.length ? "\n" : ""),
          );
        }
        if (typeof values.out === "string")
          io.err(`exported ${entries} entries (${lines.length} chain links) to ${values.out}\n`);
        return 0;
      } catch (error) {
        // A damaged page met while reading: said with the file and what to do, nothing written.
        throw storeError(error, path, "exporting the journal failed");
      } finally {
        store.close();
      }
    }
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `unknown audit command "${sub ?? ""}"\nUsage: ${usage}`,
    );
  },
};
