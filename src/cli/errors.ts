// The CLI's failures, each with the exit code it ends with (README, "Command line"): 1 the service answered an
// error (or a check or an operation failed), 2 a usage error, 3 the service (or Redis) cannot be reached.
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number, readonly code: string) {
    super(message);
  }

  /** The error as the one JSON document `--json` prints. */
  toJson(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** A bad command line or input file (exit 2, as commander's own usage errors). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage, 'usage');
  }
}

/** The service answered with an error body `{"error": {code, message, field?}}` (or something that is not one). */
export class ApiFailure extends CliError {
  constructor(readonly status: number, code: string, message: string, readonly field?: string) {
    super(message, EXIT.failed, code);
  }

  override toJson() {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined && { field: this.field }), status: this.status } };
  }
}

/** Nothing answered (connection refused, DNS, timeout). */
export class Unreachable extends CliError {
  constructor(message: string) {
    super(message, EXIT.unreachable, 'unreachable');
  }
}

/**
 * Something the command did failed (doctor's checks, a refused template, a delete not confirmed): exit 1. `reported`:
 * the command's result already says so (with --json, it is the one document; the error is not printed again there).
 */
export class Failed extends CliError {
  constructor(message: string, readonly reported = true) {
    super(message, EXIT.failed, 'failed');
  }
}

/** The cause of a failed connection, as short as it can be said (ECONNREFUSED, ENOTFOUND, …). */
export function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

/** A URL without its credentials, to print. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}
