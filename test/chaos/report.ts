// Collects one row per chaos scenario and prints them as a table at the end of the run.
import type { Ledger } from './ledger.js';
import type { Settled } from './verify.js';

export interface Row {
  scenario: string;
  accepted: number;
  terminal: number;
  lost: number;
  dupSends: number;
  /** What duplicates were allowed: what was in flight where the chaos struck. */
  dupBound: number;
  rejected: number;
  ambiguous: number;
  wallS: number;
  note: string;
}

export const rows: Row[] = [];

export function row(scenario: string, ledger: Ledger, s: Settled, dupBound: number, startedAt: number, note = ''): Row {
  const deliveries = Object.values(s.statuses).reduce((a, b) => a + b, 0);
  const r: Row = {
    scenario, accepted: s.accepted, terminal: deliveries - s.problems.filter((p) => p.includes(': still ')).length,
    lost: s.problems.length, dupSends: s.duplicates, dupBound, rejected: ledger.rejected.length, ambiguous: ledger.ambiguous.length,
    wallS: Math.round((Date.now() - startedAt) / 100) / 10,
    note: [note, s.unledgered ? `${s.unledgered} sent without a 202` : '', s.ghosts.length ? `${s.ghosts.length} requests became an extra notification` : '', s.lateSends ? `${s.lateSends} dup after a timeout` : '']
      .filter(Boolean).join('; '),
  };
  rows.push(r);
  return r;
}

export function printTable(): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!) as (keyof Row)[];
  const cells = [cols.map(String), ...rows.map((r) => cols.map((k) => String(r[k])))];
  const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(['', 'chaos ledger (terminal = deliveries in a terminal state; lost = problems found)', ...cells.map(line)].join('\n'));
}
