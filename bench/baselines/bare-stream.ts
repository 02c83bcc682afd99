// Baselines on a bare Redis stream, in their own process:
//   ceiling: XREADGROUP → multi-ID XACK, no work at all (the most a consumer of one stream can do here);
//   minimum: XREADGROUP → the same SDK send (the APNs adapter, @parse/node-apn) to the same fake → multi-ID XACK,
//            nothing else (no user, no plan, no render, no records): the least a real pipeline must do.
// Usage: node --import tsx bench/baselines/bare-stream.ts --mode ceiling|minimum --redis URL --stream KEY
//          [--fakes URL] [--batch 256] [--concurrency 256]
// Prints {"msg":"ready"} once reading; stops on SIGTERM.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { sandboxProvidersConfig, type FakesInfo } from '../../src/fakes/index.js';
import { createAdapters } from '../../src/providers/index.js';
import type { PushMessage } from '../../src/providers/types.js';

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'ceiling' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    stream: { type: 'string', default: 'bare:in' },
    fakes: { type: 'string' },
    batch: { type: 'string', default: '256' },
    concurrency: { type: 'string', default: '256' },
  },
});
const GROUP = 'bare';
const batch = Number(a.batch);
const maxInflight = Number(a.concurrency);
const stream = a.stream!;

const read = new Redis(a.redis!, { maxRetriesPerRequest: null });
const cmd = new Redis(a.redis!, { enableAutoPipelining: true });
await cmd.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM').catch(() => undefined);

let send: ((fields: string[]) => Promise<unknown>) | undefined;
let closeAdapters = async () => {};
if (a.mode === 'minimum') {
  if (!a.fakes) throw new Error('--fakes URL is required in minimum mode');
  const info = (await (await fetch(`${a.fakes}/_fake/info`)).json()) as FakesInfo;
  const adapters = await createAdapters(sandboxProvidersConfig(info, { fcm: null, twilio: null, ses: null, sns: null }));
  const apns = adapters.get('apns')!;
  closeAdapters = () => apns.close();
  let n = 0;
  send = (fields) => {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    const m: PushMessage = {
      channel: 'push', deliveryId: `bare-${n++}`, notificationId: `bare-${n}`, priority: 'normal', to: f.token!,
      content: { title: 'Hello', body: 'Your order has shipped.' }, data: { _bt: f.bt! },
    };
    return apns.send(m);
  };
}

// Acknowledgements are batched per event-loop turn into one multi-ID XACK.
let acks: string[] = [];
let ackScheduled = false;
const ack = (id: string) => {
  acks.push(id);
  if (!ackScheduled) {
    ackScheduled = true;
    setImmediate(() => {
      ackScheduled = false;
      const ids = acks;
      acks = [];
      void cmd.xack(stream, GROUP, ...ids);
    });
  }
};

let inflight = 0;
let stopping = false;
let wake: (() => void) | undefined;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  read.disconnect();
  wake?.();
  await closeAdapters().catch(() => undefined);
  cmd.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdout.write(`${JSON.stringify({ msg: 'ready', mode: a.mode })}\n`);
while (!stopping) {
  const room = maxInflight - inflight;
  // Read again once a useful batch has room (at least 1/8 of it), not one entry at a time.
  if (send && room < Math.max(1, Math.min(batch, maxInflight) >> 3)) {
    await new Promise<void>((r) => (wake = r));
    continue;
  }
  let reply: unknown;
  try {
    reply = await read.call('XREADGROUP', 'GROUP', GROUP, 'c1', 'COUNT', send ? Math.min(batch, room) : batch, 'BLOCK', 1000, 'STREAMS', stream, '>');
  } catch {
    if (stopping) break;
    continue;
  }
  if (!reply) continue;
  const entries = (reply as [string, [string, string[]][]][])[0]![1];
  if (!send) {
    if (entries.length) void cmd.xack(stream, GROUP, ...entries.map((e) => e[0]));
    continue;
  }
  for (const [id, fields] of entries) {
    inflight++;
    void send(fields).finally(() => {
      ack(id);
      inflight--;
      if (wake && maxInflight - inflight >= Math.max(1, Math.min(batch, maxInflight) >> 3)) {
        const w = wake;
        wake = undefined;
        w();
      }
    });
  }
}

