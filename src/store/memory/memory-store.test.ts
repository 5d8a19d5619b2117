import { runStoreContract } from "../store-contract.ts";
import { MemoryStore } from "./memory-store.ts";

runStoreContract("memory", () => new MemoryStore());
