// `notify`: runs the command line and ends with its exit code (README "Command line"): 0 ok, 1 the service answered
// an error (or a check failed), 2 a usage error, 3 the service (or Redis) cannot be reached.
import { CommanderError } from 'commander';
import { CliError, EXIT, UsageError } from './errors.js';
import { Output } from './output.js';
import { buildProgram } from './program.js';

export async function run(argv: readonly string[]): Promise<number> {
  const out = new Output(argv.includes('--json'));
  try {
    await buildProgram().parseAsync(argv as string[]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end 0; anything else commander refused is a usage error (it has printed why).
      if (err.exitCode === 0) return EXIT.ok;
      if (out.json) process.stdout.write(`${JSON.stringify(new UsageError(err.message.replace(/^error: /, '')).toJson(), null, 2)}\n`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      out.error(err);
      return err.exitCode;
    }
    process.stderr.write(`notify: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failed;
  }
}

process.exitCode = await run(process.argv);
