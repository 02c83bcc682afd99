#!/usr/bin/env node
// The `notify` command: the compiled CLI (dist/cli, `npm run build`) when there is one, else the sources through tsx,
// so `npx notify …` works in a checkout.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
