/**
 * Seams for the PII guard (governance issue): the input guard tokenises sensitive values before any
 * model or journal sees them; the output guard restores what the requester may see.
 */
export interface InputGuard {
  readonly name: string;
  protect(message: string, tenant: string): Promise<{ message: string; findings: number }>;
}

export interface OutputGuard {
  readonly name: string;
  reveal(answer: string, tenant: string): Promise<string>;
}
