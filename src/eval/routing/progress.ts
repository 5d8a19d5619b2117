/** Progress of a long evaluation: `done` of `total` items in `phase`. */
export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
}

export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * A progress bar on a text stream (stderr by default): redrawn in place on a terminal, one line
 * per phase otherwise, at most once per percent.
 */
export function textProgress(
  stream: { write(chunk: string): unknown; isTTY?: boolean } = process.stderr,
  width = 30,
): ProgressCallback {
  let phase = "";
  let shown = -1;
  return (event) => {
    const percent = event.total > 0 ? Math.floor((100 * event.done) / event.total) : 100;
    if (event.phase === phase && percent === shown) return;
    const newPhase = event.phase !== phase;
    phase = event.phase;
    shown = percent;
    const filled = Math.round((width * percent) / 100);
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(percent).padStart(3)}% ${event.phase} (${event.done}/${event.total})`;
    if (stream.isTTY) {
      stream.write(`\r${bar}`);
      if (event.done >= event.total) stream.write("\n");
    } else if (newPhase || event.done >= event.total) {
      if (event.done >= event.total) stream.write(`${bar}\n`);
    }
  };
}

/** Calls `onProgress` for item `done` of `total`, but only about 100 times per phase. */
export function reporter(
  onProgress: ProgressCallback | undefined,
  phase: string,
  total: number,
): (done: number) => void {
  if (!onProgress) return () => {};
  const every = Math.max(1, Math.floor(total / 100));
  onProgress({ phase, done: 0, total });
  return (done) => {
    if (done === total || done % every === 0) onProgress({ phase, done, total });
  };
}
