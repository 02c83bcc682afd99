// Standalone fake providers for another process (the bench): prints one JSON line of FakesInfo, runs until SIGTERM/SIGINT.
// Usage: node --import tsx src/fakes/main.ts [--host 127.0.0.1] [--http-port 4010] [--apns-port 4011]
//          [--max-messages 10000] [--dir DIR (also write ca.pem + apns-key.p8 there)] [--log (one masked line per message on stderr)]
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fakesInfo, startFakes, summarizeFakeMessage } from './index.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    'http-port': { type: 'string', default: '0' },
    'apns-port': { type: 'string', default: '0' },
    'max-messages': { type: 'string', default: '10000' },
    dir: { type: 'string' },
    log: { type: 'boolean', default: false },
  },
});

function port(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number, got ${v}`);
  return n;
}

const fakes = await startFakes({
  host: values.host,
  httpPort: port('http-port', values['http-port']),
  apnsPort: port('apns-port', values['apns-port']),
  maxMessages: Math.max(1, Number(values['max-messages']) || 10_000),
  onMessage: values.log ? (m) => process.stderr.write(`${JSON.stringify(summarizeFakeMessage(m))}\n`) : undefined,
});

const info = fakesInfo(fakes);
const files: Record<string, string> = {};
if (values.dir) {
  const dir = resolve(values.dir);
  await mkdir(dir, { recursive: true });
  files.caFile = join(dir, 'ca.pem');
  files.apnsKeyFile = join(dir, 'apns-key.p8');
  await writeFile(files.caFile, info.caPem);
  await writeFile(files.apnsKeyFile, info.apns.keyPem, { mode: 0o600 });
}
process.stdout.write(`${JSON.stringify({ ...info, ...files })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await fakes.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
