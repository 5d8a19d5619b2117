import type { SpendScope } from "./ledger.ts";
import { periodBounds, periodKey } from "./period.ts";

/** The entry or hold fields a scope is matched on. */
export interface ScopedFields {
  readonly tenant: string;
  readonly runId: string;
  readonly worker?: string | undefined;
  readonly at: number;
}

/** A string key naming a scope (for running sums). */
export function scopeKey(scope: SpendScope): string {
  switch (scope.kind) {
    case "request":
      return `r\u001f${scope.runId}`;
    case "worker":
      return `w\u001f${scope.runId}\u001f${scope.worker}`;
    case "tenant":
      return `t\u001f${scope.tenant}\u001f${periodKey(scope.period, scope.at)}`;
  }
}

/** Every scope key an entry counts towards. */
export function keysOf(fields: ScopedFields): string[] {
  const keys = [
    scopeKey({ kind: "request", runId: fields.runId }),
    scopeKey({ kind: "tenant", tenant: fields.tenant, period: "day", at: fields.at }),
    scopeKey({ kind: "tenant", tenant: fields.tenant, period: "month", at: fields.at }),
  ];
  if (fields.worker !== undefined)
    keys.push(scopeKey({ kind: "worker", runId: fields.runId, worker: fields.worker }));
  return keys;
}

export function inScope(scope: SpendScope, fields: ScopedFields): boolean {
  switch (scope.kind) {
    case "request":
      return fields.runId === scope.runId;
    case "worker":
      return fields.runId === scope.runId && fields.worker === scope.worker;
    case "tenant": {
      if (fields.tenant !== scope.tenant) return false;
      const { start, end } = periodBounds(scope.period, scope.at);
      return fields.at >= start && fields.at < end;
    }
  }
}
