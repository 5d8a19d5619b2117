import { runVaultStoreContract } from "../vault-store-contract.ts";
import { createMemoryVaultStore } from "./memory-vault-store.ts";

runVaultStoreContract("memory", () => createMemoryVaultStore());
