import { once } from "node:events";
import { Worker } from "node:worker_threads";

/**
 * Checkpoints the WAL of some databases from a worker thread, so the event loop that commits does not
 * pay for copying pages into the database file (SQLite's automatic checkpoint runs inside the COMMIT
 * that crosses its threshold). Pair it with connections opened with a high `walAutocheckpoint`: the
 * thread does the routine work; the connection's own checkpoint stays as a safety net that bounds the
 * log should the thread die. A PASSIVE checkpoint never blocks a writer.
 * @example
 * const checkpointer = WalCheckpointer.start([dbPath]);
 * // … commits on the main thread …
 * await checkpointer.stop(); // a last checkpoint, then the thread ends
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #ready: Promise<void>;
  #failure: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    // Starting takes a new isolate (~75 ms on the other core): nobody waits for it.
    this.#ready = new Promise<void>((resolve) => {
      worker.once("message", () => resolve());
      worker.once("error", (error) => {
        this.#failure = error instanceof Error ? error : new Error(String(error));
        resolve();
      });
      worker.once("exit", () => resolve());
    });
    // It never keeps the process alive on its own.
    worker.unref();
  }

  /** Starts the thread; each database must exist. It opens them in the background. */
  static start(paths: readonly string[], options: { intervalMs?: number } = {}): WalCheckpointer {
    return new WalCheckpointer(
      new Worker(new URL("./checkpoint-worker.ts", import.meta.url), {
        workerData: { paths: [...paths], intervalMs: options.intervalMs ?? 100 },
      }),
    );
  }

  /** Why the thread stopped working, if it did (its databases then checkpoint themselves). */
  async failure(): Promise<Error | undefined> {
    this.#worker.ref();
    await this.#ready;
    this.#worker.unref();
    return this.#failure;
  }

  /** A last checkpoint, then the thread ends. */
  async stop(): Promise<void> {
    // Waited on now: the thread must keep the process alive until it has answered.
    this.#worker.ref();
    await this.#ready;
    if (this.#failure === undefined) {
      const stopped = once(this.#worker, "message").catch(() => {});
      this.#worker.postMessage("stop");
      await Promise.race([stopped, once(this.#worker, "exit")]);
    }
    await this.#worker.terminate();
  }
}
