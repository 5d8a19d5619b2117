/**
 * Calls `fn` and returns its result as a promise; a synchronous throw becomes a rejection. The gateway's
 * layers chain continuations on the next layer's answer instead of awaiting it in an `async` function
 * (in a heap snapshot a suspended one held ~350 B per call in flight: generator, registers, promise,
 * reaction), and must still see every failure as a rejection.
 */
export function promised<T>(fn: () => PromiseLike<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}
