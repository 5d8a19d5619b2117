export {
  Budget,
  type BudgetHold,
  type BudgetLimits,
  type BudgetLimitsConfig,
  type BudgetOptions,
  type BudgetSubject,
  type CallEstimate,
  type CallUsage,
  type TenantLimits,
} from "./budget.ts";
export { BudgetExceededError, type BudgetScopeName } from "./budget-exceeded-error.ts";
export { costOf, type Price } from "./cost.ts";
export { promptChars, type TokenEstimate, TokenEstimator } from "./estimate-tokens.ts";
export type {
  BudgetPeriod,
  HoldRequest,
  HoldResult,
  Ledger,
  LedgerEntry,
  LimitCheck,
  LimitExceeded,
  Spend,
  SpendScope,
  TotalsQuery,
  TotalsRow,
} from "./ledger.ts";
export { MemoryLedger } from "./memory/memory-ledger.ts";
export { periodBounds, periodKey } from "./period.ts";
export {
  createSqliteLedger,
  LEDGER_SCHEMA_VERSION,
  type SqliteLedgerOptions,
} from "./sqlite/sqlite-ledger.ts";
