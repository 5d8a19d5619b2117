import { PiiType } from "./finding.ts";

/**
 * Data classes policy reasons about. `PCI`: payment card data (PCI DSS scope). `BANK`: bank
 * account identifiers. `PII`: other personal data. Custom recognisers may declare other classes.
 */
export const DataClass = {
  Pci: "PCI",
  Bank: "BANK",
  Pii: "PII",
} as const;
export type DataClass = (typeof DataClass)[keyof typeof DataClass];

const BUILTIN: Readonly<Record<string, string>> = {
  [PiiType.Card]: DataClass.Pci,
  [PiiType.Iban]: DataClass.Bank,
  [PiiType.Ssn]: DataClass.Pii,
  [PiiType.Email]: DataClass.Pii,
  [PiiType.Phone]: DataClass.Pii,
  [PiiType.Ip]: DataClass.Pii,
};

/**
 * The data class of a built-in PII type; unknown types are `PII` (the conservative answer).
 * Custom classes are known to the registry: use `registry.dataClassOf(type)`.
 */
export function dataClassOf(type: string): string {
  return BUILTIN[type] ?? DataClass.Pii;
}

/** Distinct data classes of a list of typed items (findings or tokens), sorted. */
export function dataClassesOf(
  items: Iterable<{ type: string }>,
  classOf: (type: string) => string = dataClassOf,
): string[] {
  const classes = new Set<string>();
  for (const item of items) classes.add(classOf(item.type));
  return [...classes].sort();
}
