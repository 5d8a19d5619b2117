/**
 * The default lane of a step name: the task (or run-level purpose) it belongs to, from the
 * runtime's naming convention — `tool:<task>/<tool>/<argsHash>#<n>` and `model:<task>/<worker>#<attempt>:<n>`
 * are in lane `<task>`; `model:planner:<n>` is in lane `planner`. Engine-internal names (`$now#0`,
 * `$signal:<topic>#0`, …), approval records (`approval:…`), the facts a tool call was authorised on
 * (`facts:…`: runs recorded before they were have none), an approver's edit of a call's arguments
 * (`edit:…`, read back only where one was made) and names without a `kind:` prefix have no
 * lane and are not sequence-checked.
 */
export function taskLane(stepName: string): string | undefined {
  if (/^(\$|approval:|facts:|edit:)/.test(stepName)) return undefined;
  return /^[^:]+:([^/:#]+)/.exec(stepName)?.[1];
}
