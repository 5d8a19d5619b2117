/**
 * Fits a softmax temperature on held-out logits by minimising negative log-likelihood
 * (golden-section search on log T). Rows of `logits` are `classes` wide.
 */
export function fitTemperature(logits: Float64Array, classes: number, labels: Int32Array): number {
  if (labels.length === 0) return 1;
  const nll = (temperature: number): number => {
    let total = 0;
    for (let r = 0; r < labels.length; r++) {
      const base = r * classes;
      let max = -Infinity;
      for (let k = 0; k < classes; k++) max = Math.max(max, logits[base + k]!);
      let sum = 0;
      for (let k = 0; k < classes; k++) sum += Math.exp((logits[base + k]! - max) / temperature);
      total += Math.log(sum) - (logits[base + labels[r]!]! - max) / temperature;
    }
    return total / labels.length;
  };
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = nll(Math.exp(a));
  let fb = nll(Math.exp(b));
  for (let i = 0; i < 40; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = nll(Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = nll(Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * The largest threshold that sends at most `rate` of in-scope requests to the fallback.
 * `confidences` are the in-scope requests' top-worker confidences; `forced` of them already
 * fall back because the out-of-scope class won outright.
 */
export function thresholdForFallbackRate(
  confidences: readonly number[],
  forced: number,
  rate: number,
): number {
  const total = confidences.length + forced;
  if (confidences.length === 0) return 0;
  const allowed = Math.floor(rate * total) - forced;
  if (allowed <= 0) return Math.min(...confidences);
  const sorted = [...confidences].sort((x, y) => x - y);
  // Requests strictly below the threshold fall back: exactly `allowed` of them (ties aside).
  return sorted[Math.min(allowed, sorted.length - 1)]!;
}
