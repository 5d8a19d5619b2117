import type { PiiEvalReport } from "./eval-pii.ts";

const num = (value: number | null): string => (value === null ? "—" : value.toFixed(3));

/** A fixed-width table of a report, for terminals and notes. */
export function formatPiiReport(report: PiiEvalReport): string {
  const header = ["type", "support", "predicted", "precision", "recall", "F2", "exact", "leaked"];
  const rows = report.types.map((m) => [
    m.type,
    String(m.support),
    String(m.predicted),
    num(m.precision),
    num(m.recall),
    num(m.f2),
    String(m.exact),
    String(m.leaked),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [
    `${report.source ?? "dataset"}: ${report.samples} samples, ${report.durationMs.toFixed(0)} ms`,
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    `leaked values: ${report.leaked}`,
    `matching: ${report.matching}`,
  ].join("\n");
}
