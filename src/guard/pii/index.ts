/**
 * PII and PCI protection: recognisers, the registry, tokens, the tokeniser and the encrypted vault.
 */
export { CARD_ISSUERS, type CardIssuer, cardIssuerOf } from "./card-issuers.ts";
export { type ContextWords, clampScore, contextHits } from "./context-words.ts";
export { DataClass, dataClassesOf, dataClassOf } from "./data-class.ts";
export { type BuiltinPiiType, type Finding, PII_TYPE_PATTERN, PiiType, type Recognizer } from "./finding.ts";
export { IBAN_LENGTHS, ibanChecksumOk, isValidIban } from "./iban.ts";
export { isLuhnValid } from "./luhn.ts";
export { DEFAULT_VAULT_PATH, type EmbeddedVaultOptions, openEmbeddedVault } from "./open-embedded-vault.ts";
export {
  createRecognizerRegistry,
  type RecognizerRegistry,
  type RecognizerRegistryOptions,
} from "./recognizer-registry.ts";
export { type CardRecognizerOptions, createCardRecognizer } from "./recognizers/card-recognizer.ts";
export { createEmailRecognizer } from "./recognizers/email-recognizer.ts";
export { createIbanRecognizer } from "./recognizers/iban-recognizer.ts";
export { createIpRecognizer } from "./recognizers/ip-recognizer.ts";
export { createPhoneRecognizer, type PhoneRecognizerOptions } from "./recognizers/phone-recognizer.ts";
export { createSsnRecognizer, isValidSsn } from "./recognizers/ssn-recognizer.ts";
export { resolveOverlaps } from "./resolve-overlaps.ts";
export { findTokens, formatToken, parseToken, type TokenRef } from "./token.ts";
export {
  createTokenizer,
  type DetokenizeOptions,
  type TokenizedFinding,
  type TokenizeOptions,
  type TokenizeResult,
  type Tokenizer,
  type TokenizerOptions,
  type TokenizeValueResult,
} from "./tokenizer.ts";
export { openVault, type RevealedValue, type Vault, type VaultOptions } from "./vault.ts";
export { createVaultCipher, type VaultCipher } from "./vault-cipher.ts";
export {
  DEFAULT_VAULT_KEY_FILE,
  parseVaultKey,
  type ResolvedVaultKey,
  resolveVaultKey,
  VAULT_KEY_ENV,
  VAULT_KEY_FILE_ENV,
  type VaultKeyOptions,
} from "./vault-key.ts";
export { createMemoryVaultStore } from "./vault-store/memory/memory-vault-store.ts";
export {
  createSqliteVaultStore,
  type SqliteVaultStoreOptions,
} from "./vault-store/sqlite/sqlite-vault-store.ts";
export type { VaultEntry, VaultRecord, VaultStore } from "./vault-store.ts";
