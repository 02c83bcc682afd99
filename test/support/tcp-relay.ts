// A TCP relay in front of a real server (PostgreSQL here) that can be taken down and brought back: down, it drops
// every connection and refuses new ones, as a stopped server would. Every byte goes to the real server.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<TcpRelay> {
  const open = new Set<Socket>();
  let isUp = true;
  const server: Server = createServer((client) => {
    if (!isUp) {
      client.destroy();
      return;
    }
    const upstream = connect(upstreamPort, upstreamHost);
    open.add(client).add(upstream);
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.pipe(upstream).on('error', drop);
    upstream.pipe(client).on('error', drop);
    client.on('close', drop).on('error', drop);
    upstream.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const down = () => {
    isUp = false;
    for (const s of open) s.destroy();
    open.clear();
  };
  return {
    port: (server.address() as { port: number }).port,
    down,
    up() {
      isUp = true;
    },
    close() {
      down();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
