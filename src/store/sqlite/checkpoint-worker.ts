// The thread behind `WalCheckpointer`: copies committed WAL frames of each database into the database
// file (a PASSIVE checkpoint never blocks the writer) on a timer, and once more when told to stop.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { paths, intervalMs } = workerData as { paths: string[]; intervalMs: number };
const databases = paths.map((path) => {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 0");
  return db;
});
const checkpoint = (): void => {
  for (const db of databases) {
    try {
      db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch {
      // Busy or locked: the next tick tries again.
    }
  }
};
const timer = setInterval(checkpoint, intervalMs);
parentPort?.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  checkpoint();
  for (const db of databases) db.close();
  parentPort?.postMessage("stopped");
  parentPort?.close();
});
parentPort?.postMessage("ready");
