// Median, min and max of a series, and the table cells the report prints.

export function summarize(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN, values };
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return { n: xs.length, median, min: xs[0], max: xs[xs.length - 1], values };
}

/** "1234 ms (1100–1400, n=5)" with the unit's own precision */
export function cell(s, unit, digits = unit === 'ms' ? 0 : 1) {
  if (!s || s.n === 0) return 'n/a';
  const f = (v) => v.toFixed(digits);
  return s.n === 1 ? `${f(s.median)} ${unit}` : `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)}, n=${s.n})`;
}

export function ratioCell(s) {
  if (!s || s.n === 0) return 'n/a';
  return s.n === 1
    ? `${s.median.toFixed(2)}`
    : `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

export const verdict = (ok) => (ok === undefined ? '' : ok ? 'met' : 'NOT met');
