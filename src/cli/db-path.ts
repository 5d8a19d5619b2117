import { resolve } from "node:path";

/** `--db <path>`, else `ARBITER_DB`, else `./.arbiter/arbiter.db`. */
export function dbPath(option: unknown, env: Readonly<Record<string, string | undefined>>): string {
  return resolve(typeof option === "string" ? option : (env.ARBITER_DB ?? ".arbiter/arbiter.db"));
}
