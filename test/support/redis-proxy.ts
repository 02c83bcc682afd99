// A TCP relay in front of a test's own redis-server, to lose Redis' replies on purpose: a command that matches
// `holdReplies` is passed on (and run by Redis) but nothing Redis answers on that connection gets back to the client —
// as when Redis crashes right after running a command. It is not a fake Redis: every byte goes to the real server.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface RedisProxy {
  url: string;
  /** From now on, the first connection that sends a command containing `pattern` gets no more replies. */
  holdReplies(pattern: string): void;
  /** True once a command matching the held pattern went through to Redis. */
  readonly held: boolean;
  /** Drops every connection (both sides), as a crash of the server would. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startRedisProxy(upstreamPort: number): Promise<RedisProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let pattern: string | undefined;
  let held = false;
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    let mute = false;
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => {
      if (pattern !== undefined && !held && d.toString('latin1').includes(pattern)) {
        held = true;
        mute = true;
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!mute) client.write(d);
    });
    for (const s of pair) {
      s.on('error', drop);
      s.on('close', drop);
    }
  });
  const dropAll = () => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    holdReplies(p) {
      pattern = p;
      held = false;
    },
    get held() {
      return held;
    },
    dropAll,
    close() {
      dropAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
