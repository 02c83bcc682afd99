// `npm start` hands signals to the service: a SIGTERM to the pid `npm start` returns (as `npm start & kill $!` sends)
// stops the service gracefully instead of orphaning it, and Ctrl-C (SIGINT to the whole process group, which npm
// forwards once more) is still one graceful stop, not the "second signal" fast exit.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually } from './support/harness.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';
import { historyDir } from './support/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const prefix = testPrefix('start-signals');
/** Every service pid seen: killed afterwards should a test leave one orphaned. */
const servicePids = new Set<number>();
const npms: ChildProcess[] = [];
after(async () => {
  for (const npm of npms) if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
  for (const pid of servicePids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await dropPrefix(prefix);
});

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface NpmStart {
  npm: ChildProcess;
  port: number;
  logs: Record<string, unknown>[];
  exited: Promise<unknown>;
}

/** `npm start` (with `npmArgs`) in sandbox mode on free ports; resolves once /readyz answers 200. */
async function npmStart(npmArgs: string[], opts: { detached?: boolean } = {}): Promise<NpmStart> {
  const port = await freePort();
  const npm = spawn('npm', ['start', ...npmArgs], {
    cwd: ROOT, detached: opts.detached ?? false, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_update_notifier: 'false',
      REDIS_URL, NOTIFY_PREFIX: prefix, NOTIFY_HTTP_PORT: String(port), NOTIFY_SANDBOX_HTTP_PORT: '0', NOTIFY_SANDBOX_APNS_PORT: '0',
      NOTIFY_HISTORY_DIR: historyDir(),
    },
  });
  npms.push(npm);
  const logs: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  npm.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue; // npm's own "> notify-streams start" lines
      const parsed = JSON.parse(line) as Record<string, unknown>;
      logs.push(parsed);
      if (typeof parsed.pid === 'number') servicePids.add(parsed.pid);
    }
  });
  npm.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(npm, 'exit');
  await eventually(async () => {
    assert.equal(npm.exitCode, null, `npm start exited early; stderr: ${stderr.slice(-2000)}`);
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
    return status === 200 ? true : undefined;
  }, 120_000, '/readyz to answer 200 (npm start builds first)');
  return { npm, port, logs, exited };
}

/** The service's own pid, from its log lines (npm's pid is another). */
function servicePid(s: NpmStart): number {
  const pid = s.logs.find((l) => l.msg === 'notify started')?.pid;
  assert.equal(typeof pid, 'number', 'the service logged its pid');
  assert.notEqual(pid, s.npm.pid, 'the service runs in a process of its own');
  return pid as number;
}

/** The service stopped gracefully: its process is gone, its port closed, and it logged its stop. */
async function assertStoppedGracefully(s: NpmStart, pid: number): Promise<void> {
  await eventually(async () => (alive(pid) ? undefined : true), 20_000, `the service (pid ${pid}) to exit`);
  const status = await fetch(`http://127.0.0.1:${s.port}/readyz`).then((r) => r.status, () => 'refused');
  assert.equal(status, 'refused', 'nothing answers on the port any more');
  assert.ok(s.logs.some((l) => l.msg === 'stopped'), 'it went through the graceful stop');
  assert.ok(!s.logs.some((l) => String(l.msg).startsWith('second signal')), 'one stop, not the fast exit');
}

describe('npm start and signals', () => {
  it('a SIGTERM to the pid npm start returns stops the service', async () => {
    const s = await npmStart([]);
    const pid = servicePid(s);
    s.npm.kill('SIGTERM');
    await s.exited;
    await assertStoppedGracefully(s, pid);
  });

  it('Ctrl-C (SIGINT to the process group, forwarded once more by npm) is one graceful stop', async () => {
    // dist/ was built by the test above: no second build.
    const s = await npmStart(['--ignore-scripts'], { detached: true });
    const pid = servicePid(s);
    process.kill(-s.npm.pid!, 'SIGINT');
    await s.exited;
    await assertStoppedGracefully(s, pid);
  });
});
