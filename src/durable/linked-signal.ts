/**
 * A signal that aborts when any of its parents does — what `AbortSignal.any` makes, at a fraction of the
 * cost (~1 µs against ~10 µs: `AbortSignal.any` ties each result to its sources with `WeakRef`s, which the
 * garbage collector keeps alive to the end of the current task — for a batch of runs on instant models,
 * the whole batch). The price is `dispose()`: it detaches the signal from its parents once the scope that
 * uses it ends, or a long-lived parent keeps it (and what it references) until the parent aborts.
 *
 * Each parent gets one `abort` listener however many signals link to it (no max-listeners warning on a
 * signal many runs share); a linked signal is itself a parent like any other.
 * @example
 * const linked = linkSignals([options.signal, engine.closed]);
 * try { await abortableDelay(ms, linked.signal); } finally { linked.dispose(); }
 */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Detaches the signal from its parents (it no longer aborts with them). Idempotent. */
  dispose(): void;
}

/** The controllers linked to each parent signal, aborted together by the parent's one listener. */
const linked = new WeakMap<AbortSignal, Set<AbortController>>();

const nothing = (): void => {};

export function linkSignals(parents: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  return { signal: controller.signal, dispose: linkAbort(controller, parents) };
}

/**
 * Aborts `controller` when any of `parents` does (at once if one already has); returns the `dispose`
 * that detaches it. For a controller that has reasons of its own to abort (a timeout): no third signal.
 */
export function linkAbort(controller: AbortController, parents: readonly AbortSignal[]): () => void {
  for (const parent of parents) {
    if (parent.aborted) {
      controller.abort(parent.reason);
      return nothing;
    }
  }
  for (const parent of parents) {
    let children = linked.get(parent);
    if (children === undefined) {
      const set = new Set<AbortController>();
      children = set;
      linked.set(parent, set);
      parent.addEventListener(
        "abort",
        () => {
          linked.delete(parent);
          for (const child of set) child.abort(parent.reason);
          set.clear();
        },
        { once: true },
      );
    }
    children.add(controller);
  }
  return () => {
    for (const parent of parents) linked.get(parent)?.delete(controller);
  };
}
