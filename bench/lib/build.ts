// The bench runs compiled JavaScript, as `npm start` does (tsc, not tsx's on-the-fly transform), for the service and
// the Node baselines alike: one tsc build of src/ and baselines/ into bench/.build before anything starts.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export function buildCompiled(root: string): string {
  const out = join(root, 'bench', '.build');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'bench', 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  // tsc copies no assets: the Lua scripts, the migrations and the console's static files are read next to their
  // compiled modules (as package.json's build copies them into dist/).
  for (const dir of [['streams', 'scripts'], ['history', 'migrations'], ['console']]) {
    const from = join(root, 'src', ...dir);
    if (existsSync(from)) cpSync(from, join(out, 'src', ...dir), { recursive: true, filter: (f) => !f.endsWith('.ts') });
  }
  return out;
}

/**
 * The compiled form of a source script (`src/main.ts` → `<out>/src/main.js`). A script the build left out is an error,
 * not a quiet fallback to tsx: one side running uncompiled would skew the comparison.
 */
export function compiledScript(out: string, script: string): string {
  const js = join(out, script.replace(/\.ts$/, '.js'));
  if (!existsSync(js)) throw new Error(`${script} was not compiled into ${out} (add it to bench/tsconfig.build.json)`);
  return js;
}
