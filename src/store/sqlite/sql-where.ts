import type { SQLInputValue } from "node:sqlite";

/**
 * A `WHERE` clause of the conditions whose value is given (`{ "tenant = ?": tenant }`; an undefined value
 * leaves its condition out), joined with AND, and the arguments in the same order. Empty when none is.
 */
export function whereOf(conditions: Record<string, SQLInputValue | undefined>): {
  sql: string;
  args: SQLInputValue[];
} {
  const clauses: string[] = [];
  const args: SQLInputValue[] = [];
  for (const [clause, value] of Object.entries(conditions)) {
    if (value === undefined) continue;
    clauses.push(clause);
    args.push(value);
  }
  return { sql: clauses.length === 0 ? "" : `WHERE ${clauses.join(" AND ")}`, args };
}
