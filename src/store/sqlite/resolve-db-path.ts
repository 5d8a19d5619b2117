import { resolve } from "node:path";

/** Where the database lives when neither `--db` nor `ARBITER_DB` says otherwise (relative to the working directory). */
export const DEFAULT_DB_PATH = "./.arbiter/arbiter.db";

/**
 * The database path: the explicit option (`--db`), else `ARBITER_DB`, else `./.arbiter/arbiter.db`,
 * made absolute against `cwd`. `:memory:` passes through unchanged.
 */
export function resolveDbPath(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): string {
  const chosen = [option, env.ARBITER_DB].find((p) => p !== undefined && p.trim() !== "") ?? DEFAULT_DB_PATH;
  return chosen === ":memory:" ? chosen : resolve(cwd, chosen);
}
