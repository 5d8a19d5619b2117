import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { type CliIo, processIo, reportError } from "./output.ts";

export interface Command {
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** A command of the CLI; its module loads only when it runs, so `arbiter <command>` starts fast. */
interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

const commands: readonly CommandEntry[] = [
  {
    name: "run",
    summary: "run one request through a profile and print the answer",
    load: async () => (await import("./commands/run.ts")).runCommand,
  },
  {
    name: "resume",
    summary: "continue unfinished runs after a crash or a restart (exits when each is finished or waiting)",
    load: async () => (await import("./commands/resume.ts")).resumeCommand,
  },
  {
    name: "serve",
    summary:
      "keep a profile's runs going: resume unfinished runs on start, and waiting ones when a person decides",
    load: async () => (await import("./commands/serve.ts")).serveCommand,
  },
  {
    name: "runs",
    summary: "list runs, or show one: plan, tasks, steps, events and pending approvals",
    load: async () => (await import("./commands/runs.ts")).runsCommand,
  },
  {
    name: "approvals",
    summary: "the approval inbox: list, show, approve or deny what runs wait for",
    load: async () => (await import("./commands/approvals.ts")).approvalsCommand,
  },
  {
    name: "replay",
    summary: "re-run a finished run on its recorded model and tool results; report divergences",
    load: async () => (await import("./commands/replay.ts")).replayCommand,
  },
  {
    name: "audit",
    summary: "verify the hash-chained journal and its signed checkpoints, or export it as JSONL",
    load: async () => (await import("./commands/audit.ts")).auditCommand,
  },
  {
    name: "validate",
    summary: "check a mission profile and print its version",
    load: async () => (await import("./commands/validate.ts")).validateCommand,
  },
  {
    name: "policy",
    summary: "validate a profile's Cedar bundle, or list where a shadow bundle decided differently",
    load: async () => (await import("./commands/policy.ts")).policyCommand,
  },
  {
    name: "costs",
    summary: "tokens and money spent, by worker, model or day (from the cost ledger)",
    load: async () => (await import("./commands/costs.ts")).costsCommand,
  },
  {
    name: "eval",
    summary: "measure quality on labelled data: routing, decompose, injection, pii",
    load: async () => (await import("./commands/eval.ts")).evalCommand,
  },
  {
    name: "bench",
    summary: "measure supervisor overhead, throughput, memory and parallelism on the telecom scenario",
    load: async () => (await import("./commands/bench.ts")).benchCommand,
  },
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
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) {
    return reportError(
      io,
      new ArbiterError(
        ErrorCode.InvalidArgument,
        `unknown command "${name}"; commands: ${commands.map((c) => c.name).join(", ")} (see arbiter --help)`,
      ),
    );
  }
  try {
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(`Usage: ${command.usage}\n`);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    return reportError(io, error);
  }
}
