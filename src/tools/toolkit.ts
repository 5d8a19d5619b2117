import type { CodeHandler } from "../workers/code-handler.ts";
import type { AnyTool } from "./tool.ts";

export interface ToolkitOptions {
  /** Environment the toolkit may read (database paths, endpoints). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder of the profile that loaded the toolkit. */
  readonly profileDir: string;
}

/** Tools and code handlers a profile brings in through `toolkits:`. */
export interface Toolkit {
  readonly tools: readonly AnyTool[];
  readonly handlers?: Readonly<Record<string, CodeHandler>>;
  /** Releases resources (database handles) when the runtime closes. */
  close?(): void | Promise<void>;
}

export type ToolkitFactory = (options: ToolkitOptions) => Toolkit | Promise<Toolkit>;

/** A toolkit module's default export. Resources are created per runtime, never at import time. */
export function defineToolkit(factory: ToolkitFactory): ToolkitFactory {
  return factory;
}
