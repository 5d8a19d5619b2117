export {
  INJECTION_THRESHOLD,
  type InjectionScore,
  type StrippedText,
  scoreInjection,
  stripInjection,
} from "./score-injection.ts";
export { SIGNALS, type Signal, type SignalKind } from "./signals.ts";
