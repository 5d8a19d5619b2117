import { runLedgerContract } from "../ledger-contract.ts";
import { MemoryLedger } from "./memory-ledger.ts";

runLedgerContract("memory", () => new MemoryLedger());
