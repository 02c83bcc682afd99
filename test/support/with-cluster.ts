// Runs a command (the tests) with a private Redis Cluster up: `node --import tsx test/support/with-cluster.ts <cmd…>`.
// The command sees NOTIFY_TEST_REDIS_CLUSTER (the seed nodes); the harness then points the service at the cluster.
import { spawn } from 'node:child_process';
import { startRedisCluster } from './redis-cluster.js';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: with-cluster.ts <command> [args…]');
  process.exit(2);
}
const cluster = await startRedisCluster();
console.error(`Redis Cluster (3 masters, 3 replicas) on ${cluster.seeds}`);
const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, NOTIFY_TEST_REDIS_CLUSTER: cluster.seeds } });
const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await cluster.stop();
process.exit(code);
