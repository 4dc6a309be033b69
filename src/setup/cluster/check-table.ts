// The table setup prints after it applied: one row per identity and check, ok or not, and what was seen.
// Pure, so the command and the tests render the same text.
import type { IdentityRole } from '../federation-plan.js';

export interface CheckRow {
  identity: IdentityRole;
  check: string;
  ok: boolean;
  detail: string;
}

/** The rows as an aligned text table: identity | check | ok | detail (the detail unpadded, last). */
export function renderCheckTable(rows: CheckRow[]): string[] {
  const header = { identity: 'identity', check: 'check', ok: 'ok', detail: 'detail' };
  const cells = rows.map((r) => ({
    identity: r.identity,
    check: r.check,
    ok: r.ok ? 'ok' : 'FAIL',
    detail: r.detail,
  }));
  const width = (key: 'identity' | 'check' | 'ok') =>
    Math.max(header[key].length, ...cells.map((c) => c[key].length));
  const [wi, wc, wo] = [width('identity'), width('check'), width('ok')];
  const line = (c: typeof header) =>
    `${c.identity.padEnd(wi)}  ${c.check.padEnd(wc)}  ${c.ok.padEnd(wo)}  ${c.detail}`.trimEnd();
  const failed = rows.filter((r) => !r.ok).length;
  return [
    line(header),
    line({ identity: '-'.repeat(wi), check: '-'.repeat(wc), ok: '-'.repeat(wo), detail: '------' }),
    ...cells.map(line),
    failed === 0 ? `all ${rows.length} checks ok` : `${failed} of ${rows.length} checks failed`,
  ];
}

/** Whether every row is ok. */
export function allOk(rows: CheckRow[]): boolean {
  return rows.every((r) => r.ok);
}
