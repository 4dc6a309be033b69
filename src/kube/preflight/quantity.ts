// Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity) as plain numbers: CPU in
// millicores, everything else in its base unit (bytes, pods). Pure.

const suffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const quantity = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The value of a quantity in base units ('250m' -> 0.25, '1Gi' -> 1073741824); undefined if malformed. */
export function parseQuantity(text: unknown): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const match = quantity.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  if (match[2]) return value * 10 ** Number(match[2].slice(1));
  return value * (suffixes[match[3] ?? ''] ?? 1);
}

/** One resource's amount in the unit this module computes in: millicores for cpu, base units otherwise. */
export function amountOf(resource: string, text: unknown): number | undefined {
  const value = parseQuantity(text);
  if (value === undefined) return undefined;
  // ResourceQuota names them requests.cpu, limits.memory, ...
  const base = resource.replace(/^(requests|limits)\./, '');
  return base === 'cpu' ? Math.round(value * 1000) : Math.ceil(value);
}

const binary: [string, number][] = [
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/** Figures as `kubectl describe node` shows them: '1670m' for cpu, '834Mi' for memory. */
export function formatAmount(resource: string, amount: number): string {
  if (resource === 'cpu') return `${Math.round(amount)}m`;
  if (resource === 'memory' || resource === 'ephemeral-storage' || resource.startsWith('hugepages-')) {
    const sign = amount < 0 ? '-' : '';
    const abs = Math.abs(amount);
    for (const [unit, size] of binary)
      if (abs >= size) {
        const value = abs / size;
        // whole units, or one decimal when it matters (1.5Gi); never rounds a shortage away
        return `${sign}${Number.isInteger(value) || value >= 100 ? Math.floor(value) : Math.floor(value * 10) / 10}${unit}`;
      }
    return `${sign}${abs}`;
  }
  return String(amount);
}

/** 'CPU', 'memory', 'pods', or the resource name itself, for sentences. */
export function resourceNoun(resource: string): string {
  return resource === 'cpu' ? 'CPU' : resource;
}

export type Amounts = Record<string, number>;

/** A ResourceList ({cpu: '250m', memory: '64Mi'}) as amounts; unknown or malformed entries are skipped. */
export function amounts(list: Record<string, unknown> | undefined): Amounts {
  const out: Amounts = {};
  for (const [resource, text] of Object.entries(list ?? {})) {
    const value = amountOf(resource, text);
    if (value !== undefined) out[resource] = value;
  }
  return out;
}

export function add(a: Amounts, b: Amounts, times = 1): Amounts {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v * times;
  return out;
}

export function max(a: Amounts, b: Amounts): Amounts {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}
