import type { z } from "zod";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import type { ApprovalSubject, JournalEntry } from "../journal/events.ts";
import type { ApprovalRecord } from "../store/store.ts";

/**
 * What the approval asks about, from its request among its run's journal entries (requests journaled
 * before subjects were have none).
 */
export function subjectOf(entries: readonly JournalEntry[], a: ApprovalRecord): ApprovalSubject | undefined {
  for (const { event } of entries)
    if (event.type === "approval-request" && event.approvalId === a.id) return event.subject;
  return undefined;
}

function refuse(message: string): never {
  throw new ArbiterError(ErrorCode.InvalidArgument, `--edit: ${message}`, { details: { field: "edit" } });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Whether an approver's edit fits what is decided (the CLI's `--edit`, `LocalRuntime.decide`'s `edit`):
 * an `invalid-argument` error (exit 2) that says what would fit, when it does not. The run still
 * validates a tool call's edited arguments with the tool's own schema (see also `checkToolEdit`).
 */
export function checkEdit(
  subject: ApprovalSubject | undefined,
  decision: "approved" | "denied",
  edit: unknown,
): void {
  if (subject === undefined) return;
  const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  if (subject.kind === "in-doubt") {
    if (decision === "approved")
      refuse(
        `approving a call left in doubt runs it again as it was; to record what it did instead, deny it with --edit <result>`,
      );
    return;
  }
  if (decision === "denied")
    refuse("a denial takes no edit here (only a call left in doubt records its result on deny)");
  if (subject.kind === "tool-call") {
    const args = isObject(subject.input) ? subject.input : {};
    const names = Object.keys(args);
    if (!isObject(edit) || Object.keys(edit).length === 0)
      refuse(
        `give the arguments of ${subject.tool} to change as a JSON object, e.g. {"${names[0] ?? "amount"}": …}`,
      );
    for (const [key, value] of Object.entries(edit)) {
      if (!Object.hasOwn(args, key))
        refuse(
          `${subject.tool} was called with ${names.join(", ") || "no arguments"}; "${key}" is not one of them`,
        );
      const was = args[key];
      if (was !== null && kind(was) !== kind(value))
        refuse(
          `"${key}" of ${subject.tool} is a ${kind(was)} (was ${JSON.stringify(was)}), not a ${kind(value)}`,
        );
    }
    return;
  }
  if (subject.kind === "answer") {
    if (
      !isObject(edit) ||
      Object.keys(edit).some((k) => k !== "summary" && k !== "data") ||
      (edit.summary !== undefined && typeof edit.summary !== "string") ||
      (edit.data !== undefined && !isObject(edit.data))
    )
      refuse(`a corrected answer is {"summary": "<text>", "data": {…}} (either or both)`);
    return;
  }
  if (typeof edit !== "string" || edit.trim() === "")
    refuse(`the task's new input is a JSON string, e.g. '"cancel my roaming add-on"'`);
}

/**
 * After `checkEdit`, for a held tool call's approved edit: `toolInput`, the tool's input schema in the
 * profile the run resumes on, must take the edited arguments (a negative amount is refused here, not
 * by the run escalating its call). Only what the edit changes is judged: an argument left as the model
 * gave it may hold a token (<EMAIL_1>) that a format check would refuse here but that the run gives the
 * tool as the value it stands for. The run still validates the arguments as a whole when it calls.
 */
export function checkToolEdit(subject: ApprovalSubject, edit: unknown, toolInput: z.ZodType): void {
  if (subject.kind !== "tool-call" || !isObject(edit)) return;
  const parsed = toolInput.safeParse({ ...(isObject(subject.input) ? subject.input : {}), ...edit });
  const wrong = parsed.success
    ? []
    : parsed.error.issues.filter((i) => typeof i.path[0] === "string" && Object.hasOwn(edit, i.path[0]));
  if (wrong.length > 0)
    refuse(
      `${subject.tool} would refuse ${wrong.map((i) => `"${i.path.join(".")}": ${i.message}`).join("; ")}; ` +
        "nothing was recorded: approve with a value it takes, or without --edit",
    );
}
