// JSON from the command line: a file (`-` for stdin) or an option's value; anything unreadable is a usage error.
import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJsonFile(path: string): Promise<unknown> {
  let source: string;
  try {
    source = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseJson(source, path);
}

export function parseJson(source: string, what: string): unknown {
  try {
    return JSON.parse(source);
  } catch (err) {
    throw new UsageError(`${what} is not JSON: ${(err as Error).message}`);
  }
}

/** A JSON object (a request body), else a usage error naming where it came from. */
export function jsonObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** A whole number option within bounds. */
export function wholeNumber(value: string, option: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${option} must be a whole number from ${min} to ${max}`);
  return n;
}

/** Collects a repeatable option; each value may also be comma-separated (`--channel email,sms`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
