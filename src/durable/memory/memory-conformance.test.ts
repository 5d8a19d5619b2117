import { runDurableConformance } from "../durable-conformance.ts";
import { MemoryDurableEngine } from "./memory-durable.ts";

runDurableConformance("memory engine", () => ({ engine: new MemoryDurableEngine(), close: () => {} }));
