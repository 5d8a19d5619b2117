import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { approvalsCommand } from "./commands/approvals.ts";
import { auditCommand } from "./commands/audit.ts";
import { benchCommand } from "./commands/bench.ts";
import { costsCommand } from "./commands/costs.ts";
import { evalCommand } from "./commands/eval.ts";
import { policyCommand } from "./commands/policy.ts";
import { replayCommand } from "./commands/replay.ts";
import { resumeCommand } from "./commands/resume.ts";
import { runCommand } from "./commands/run.ts";
import { runsCommand } from "./commands/runs.ts";
import { validateCommand } from "./commands/validate.ts";
import { type CliIo, processIo, reportError } from "./output.ts";

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

const commands: readonly Command[] = [
  runCommand,
  resumeCommand,
  runsCommand,
  approvalsCommand,
  replayCommand,
  auditCommand,
  validateCommand,
  policyCommand,
  costsCommand,
  evalCommand,
  benchCommand,
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "arbiter — a supervisor runtime for multi-agent LLM systems",
    "",
    "Usage: arbiter <command> [options]",
    "",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `arbiter <command> --help` for a command's options.",
    "",
  ].join("\n");
}

/** Runs the CLI and returns the exit code: 0 ok, 1 run failed or escalated, 2 bad input. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(help());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    io.out("arbiter 0.1.0\n");
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    return reportError(
      io,
      new ArbiterError(
        ErrorCode.InvalidArgument,
        `unknown command "${name}"; commands: ${commands.map((c) => c.name).join(", ")} (see arbiter --help)`,
      ),
    );
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(`Usage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return reportError(io, error);
  }
}
