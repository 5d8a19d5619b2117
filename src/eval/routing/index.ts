export {
  type DecomposeReport,
  type EvalDecomposeOptions,
  evalDecompose,
  trainFromMultiIntent,
} from "./eval-decompose.ts";
export { type EvalInjectionOptions, evalInjection, type InjectionReport } from "./eval-injection.ts";
export {
  type EvalRoutingOptions,
  evalRouting,
  type RoutingReport,
  sampleExamples,
  trainRouter,
} from "./eval-routing.ts";
export {
  type ClincLayout,
  type Domains,
  type InjectionRow,
  loadClincLayout,
  loadDomains,
  loadInjectionRows,
  loadMultiIntent,
  type MultiIntentLayout,
  parseClincLayout,
  parseDomains,
  parseMultiIntent,
} from "./load-data.ts";
export { type ProgressCallback, type ProgressEvent, textProgress } from "./progress.ts";
