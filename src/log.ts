// The service logger: pino with personal data redacted wherever it might appear.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that may hold emails, phone numbers, device tokens, keys or message bodies. */
const REDACT = [
  'email', '*.email', 'phone', '*.phone', 'token', '*.token', 'to', '*.to',
  'body', '*.body', 'content', '*.content', 'params', '*.params',
  'authorization', '*.authorization', 'req.headers.authorization', 'apiKey', '*.apiKey',
];

/** Creates the root logger; `destination` lets tests capture the output. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } };
  return destination ? pino(options, destination) : pino(options);
}
