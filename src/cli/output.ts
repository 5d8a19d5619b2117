import { ArbiterError, describeError } from "../errors/arbiter-error.ts";

/** Where a command writes; injected so tests can capture it. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly isTty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTty: process.stderr.isTTY === true,
  env: process.env,
};

export const ExitCode = { Ok: 0, RunNotCompleted: 1, BadInput: 2 } as const;

/** Prints an error the way every command does and returns its exit code. */
export function reportError(io: CliIo, error: unknown): number {
  if (error instanceof ArbiterError) {
    io.err(`arbiter: ${error.message}\n`);
    return error.isInputError ? ExitCode.BadInput : ExitCode.RunNotCompleted;
  }
  io.err(`arbiter: unexpected error: ${describeError(error)}\n`);
  if (error instanceof Error && error.stack && io.env.ARBITER_DEBUG) io.err(`${error.stack}\n`);
  return ExitCode.RunNotCompleted;
}
