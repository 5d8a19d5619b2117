import { resolve } from "node:path";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { evalPii } from "../../eval/pii/eval-pii.ts";
import { formatPiiReport } from "../../eval/pii/format-pii-report.ts";
import { loadPiiDataset } from "../../eval/pii/pii-dataset.ts";
import type { Command } from "../main.ts";
import type { CliIo } from "../output.ts";
import { parse } from "../parse.ts";

const usage = "arbiter eval pii --data <file> [--json]";

function progress(io: CliIo, quiet: boolean) {
  let last = -1;
  return ({ done, total }: { done: number; total: number }) => {
    if (quiet) return;
    const pct = Math.floor((done / total) * 100);
    if (pct === last) return;
    last = pct;
    const bar = "#".repeat(Math.floor(pct / 5)).padEnd(20, ".");
    io.err(io.isTty ? `\r  [${bar}] ${pct}%` : pct % 25 === 0 ? `  ${pct}%\n` : "");
    if (io.isTty && done === total) io.err("\n");
  };
}

async function evalPiiCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { data: { type: "string" }, json: { type: "boolean" } }, usage);
  if (typeof values.data !== "string") {
    throw new ArbiterError(ErrorCode.InvalidArgument, `--data <file> is required\nUsage: ${usage}`);
  }
  const dataset = loadPiiDataset(resolve(values.data));
  const report = await evalPii({ data: dataset, onProgress: progress(io, values.json === true) });
  io.out(values.json ? `${JSON.stringify(report)}\n` : `${formatPiiReport(report)}\n`);
  return 0;
}

/** `arbiter eval <suite>`: quality measurements on public data sets. */
export const evalCommand: Command = {
  name: "eval",
  summary: "measure quality on labelled data: pii",
  usage,
  async run(args, io) {
    const [suite, ...rest] = args;
    if (suite === "pii") return evalPiiCommand(rest, io);
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `unknown evaluation "${suite ?? ""}"; available: pii\nUsage: ${usage}`,
    );
  },
};
