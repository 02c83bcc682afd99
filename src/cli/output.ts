// What commands print: with --json exactly one JSON document on stdout; otherwise short aligned text. Progress,
// prompts and errors go to stderr, so stdout stays what a script reads.
import { Failed, type CliError } from './errors.js';

export class Output {
  constructor(readonly json: boolean, private readonly stdout: NodeJS.WritableStream = process.stdout, private readonly stderr: NodeJS.WritableStream = process.stderr) {}

  /** The command's result: `doc` as JSON with --json, else the human text (nothing when it is empty). */
  result(doc: unknown, human: () => string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    else {
      const text = human();
      if (text) this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /** A line on stdout as it happens (tail's events). */
  line(text: string): void {
    this.stdout.write(`${text}\n`);
  }

  /** A note for the person at the terminal, on stderr. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** An error: on stderr always; with --json also as the one document on stdout. */
  error(err: CliError): void {
    this.stderr.write(`notify: ${describe(err)}\n`);
    if (this.json && !(err instanceof Failed && err.reported)) this.stdout.write(`${JSON.stringify(err.toJson(), null, 2)}\n`);
  }
}

function describe(err: CliError): string {
  const j = err.toJson().error;
  if (typeof j.status === 'number') return `${j.status} ${err.code}${j.field !== undefined ? ` (field ${String(j.field)})` : ''}: ${err.message}`;
  return err.message;
}

/** Rows as aligned columns (two spaces apart; the last column is not padded). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `key  value` lines, keys aligned; undefined and null values are left out. */
export function fields(pairs: readonly (readonly [string, unknown])[]): string {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== null);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${text(v)}`).join('\n');
}

/** A value as one short piece of text. */
export function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
