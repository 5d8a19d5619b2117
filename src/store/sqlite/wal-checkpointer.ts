import { once } from "node:events";
import { Worker } from "node:worker_threads";

/**
 * Checkpoints the WAL of some databases from a worker thread, so the event loop that commits never
 * pays for copying pages into the database file (SQLite's automatic checkpoint runs inside the
 * COMMIT that crosses the threshold). Connections opened with `walAutocheckpoint: 0` rely on it.
 * A PASSIVE checkpoint never blocks a writer; with checkpoints keeping up, the log restarts from its
 * beginning and stays small.
 * @example
 * const checkpointer = await WalCheckpointer.start([dbPath, ledgerPath]);
 * // … commits on the main thread …
 * await checkpointer.stop(); // a last checkpoint, then the thread ends
 */
export class WalCheckpointer {
  readonly #worker: Worker;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the thread; it opens each database (which must exist) before this resolves. */
  static async start(
    paths: readonly string[],
    options: { intervalMs?: number } = {},
  ): Promise<WalCheckpointer> {
    const worker = new Worker(new URL("./checkpoint-worker.ts", import.meta.url), {
      workerData: { paths: [...paths], intervalMs: options.intervalMs ?? 100 },
    });
    const [message] = (await Promise.race([
      once(worker, "message"),
      once(worker, "error").then(([e]) => Promise.reject(e)),
    ])) as [unknown];
    if (message !== "ready") throw new Error(`the WAL checkpoint thread did not start: ${String(message)}`);
    // It never keeps the process alive on its own.
    worker.unref();
    return new WalCheckpointer(worker);
  }

  /** A last checkpoint, then the thread ends. */
  async stop(): Promise<void> {
    const stopped = once(this.#worker, "message");
    this.#worker.postMessage("stop");
    await Promise.race([stopped, once(this.#worker, "exit")]);
    await this.#worker.terminate();
  }
}
