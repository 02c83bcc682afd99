// Child processes of the bench: spawned with a name, JSON log lines read from stdout, stopped by pid (TERM, then KILL).
// Every process started here is registered, so `stopAll()` can end them on success, error or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compiledScript } from './build.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Line = Record<string, unknown>;

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  /** Extra node flags before the script (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Keep stdout lines that are not JSON (default: dropped). */
  cwd?: string;
}

const live = new Set<Proc>();

/** Something else the bench started (a Redis Cluster's nodes): stopped with the processes, killed at once on exit. */
export interface Stoppable {
  stop(): Promise<void>;
  /** Synchronous last resort (SIGKILL by pid). */
  killNow(): void;
}
const others = new Set<Stoppable>();

/** Registers `s` for stopAll() and killAllNow(); call the returned function once `s` is stopped. */
export function track(s: Stoppable): () => void {
  others.add(s);
  return () => void others.delete(s);
}

export class Proc {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  private readonly waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  private stderrTail = '';
  private buffer = '';
  readonly exited: Promise<number | null>;

  constructor(readonly name: string, command: string, args: string[], opts: SpawnOptions = {}) {
    this.child = spawn(command, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        resolve(code ?? (signal ? -1 : null));
      });
      this.child.once('error', () => {
        live.delete(this);
        resolve(-1);
      });
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  private onStdout(chunk: Buffer): void {
    this.buffer += chunk.toString();
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const text = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (!text.startsWith('{')) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue;
      }
      if (this.lines.length < 10_000) this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.pred(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  }

  /** The first stdout JSON line (already seen or coming) matching `pred`; rejects on timeout or exit. */
  waitFor(pred: (l: Line) => boolean, timeoutMs = 30_000): Promise<Line> {
    const found = this.lines.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no matching output within ${timeoutMs} ms; stderr: ${this.stderrTail.slice(-1500)}`));
      }, timeoutMs);
      this.waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void this.exited.then((code) => {
        clearTimeout(timer);
        const last = this.lines.at(-1);
        reject(new Error(`${this.name} exited (${code}) early; ${last ? `last log line: ${JSON.stringify(last).slice(0, 1500)}; ` : ''}stderr: ${this.stderrTail.slice(-1500)}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (!this.running) return this.exited;
    signal(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(this.pid, 'SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

let compiledRoot: string | undefined;

/** From now on, scripts built by `buildCompiled` run as compiled JavaScript (without tsx). */
export function useCompiled(out: string): void {
  compiledRoot = out;
}

/** node <script>: its compiled form once `useCompiled` was called, else `--import tsx` on the source. */
export function spawnNode(name: string, script: string, args: string[] = [], opts: SpawnOptions = {}): Proc {
  const entry = compiledRoot === undefined ? ['--import', 'tsx', script] : [compiledScript(compiledRoot, script)];
  return new Proc(name, process.execPath, [...(opts.nodeFlags ?? []), ...entry, ...args], opts);
}

/** Stops every process this bench started, newest first. */
export async function stopAll(graceMs = 20_000): Promise<void> {
  const procs = [...live].reverse();
  for (const p of procs) await p.stop(graceMs);
  for (const s of [...others]) {
    await s.stop().catch(() => s.killNow());
    others.delete(s);
  }
}

/** Last resort on exit: kills whatever is still running, synchronously. */
export function killAllNow(): void {
  for (const p of live) signal(p.pid, 'SIGKILL');
  for (const s of others) s.killNow();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
