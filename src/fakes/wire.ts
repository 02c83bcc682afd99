// Shared shapes for the fakes' provider wire formats: parsed requests, replies, and error specs filled from code tables.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderName } from '../domain/types.js';
import type { FailSpec } from './behavior.js';

export interface WireRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request understood by a provider route; `invalid` is the error a real provider would answer for it. */
export interface Parsed {
  to: string;
  headers: Record<string, string>;
  body: Record<string, any>;
  invalid?: FailSpec;
}

export interface WireReply {
  status: number;
  headers: Record<string, string | number>;
  body: string;
}

/** A fully resolved error: both status and provider code known. */
export interface Failure {
  status: number;
  code: string;
  message: string;
  retryAfterS?: number;
  timestampMs?: number;
}

/** One provider served by the plain HTTP/1.1 fake. */
export interface HttpProviderRoute {
  readonly provider: ProviderName;
  /** Path parameters when this route serves the request, else undefined. */
  match(method: string, path: string): string[] | undefined;
  parse(req: WireRequest, params: string[]): Parsed;
  ok(parsed: Parsed, params: string[]): { reply: WireReply; messageId: string };
  fail(spec: FailSpec, params: string[]): { reply: WireReply; code: string };
}

/** A provider's error vocabulary: code → HTTP status, the code to use for a bare status, and the default failure. */
export interface ErrorTable {
  codes: Record<string, number>;
  byStatus: Record<number, string>;
  fallback: { status: number; code: string };
}

/** Fills in whichever of status/code the spec left out, and Retry-After for 429. */
export function resolveFail(spec: FailSpec, table: ErrorTable, message?: (code: string) => string): Failure {
  const known = spec.code !== undefined ? table.codes[spec.code] : undefined;
  const status = spec.status ?? known ?? (spec.code !== undefined ? 400 : table.fallback.status);
  const code = spec.code ?? table.byStatus[status] ?? table.fallback.code;
  const retryAfterS = spec.retryAfterS ?? (status === 429 ? 1 : undefined);
  const f: Failure = { status, code, message: spec.message ?? message?.(code) ?? `fake ${code}` };
  if (retryAfterS !== undefined) f.retryAfterS = retryAfterS;
  if (spec.timestampMs !== undefined) f.timestampMs = spec.timestampMs;
  return f;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string | number> = {}): WireReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function retryAfter(f: Failure): Record<string, string> {
  return f.retryAfterS === undefined ? {} : { 'retry-after': String(f.retryAfterS) };
}

/** Picks the named headers (lower-case) that are present. */
export function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = headers[n];
    if (v !== undefined) out[n] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function parseJson(body: Buffer): Record<string, any> | undefined {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseForm(body: Buffer): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
}

export const E164 = /^\+[1-9]\d{1,14}$/;
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** 32 random hex characters; randomUUID is pooled, so this is cheap per request. */
export function hex32(): string {
  return randomUUID().replaceAll('-', '');
}
