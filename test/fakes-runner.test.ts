// TLS material for the APNs fake, and the standalone runner another process (the bench) starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { generateApnsKey, generateTlsMaterial, type FakesInfo } from '../src/fakes/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('fake TLS material', () => {
  it('a CA and a localhost/127.0.0.1 server certificate it issued, made quickly', async () => {
    await generateTlsMaterial(); // loads the x509 library once
    const t0 = performance.now();
    const m = await generateTlsMaterial();
    const ms = performance.now() - t0;
    assert.ok(ms < 300, `generation took ${ms.toFixed(0)} ms`);
    const ca = new X509Certificate(m.caPem);
    const cert = new X509Certificate(m.certPem);
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
    assert.ok(ca.ca && !cert.ca);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.ok(cert.publicKey.equals(createPublicKey(createPrivateKey(m.keyPem))), 'key matches the certificate');
  });

  it('an APNs-style ES256 key: PKCS#8 P-256 PEM and 10-character ids', () => {
    const k = generateApnsKey();
    assert.match(k.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    const key = createPrivateKey(k.keyPem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(k.keyId, /^[A-Z0-9]{10}$/);
    assert.match(k.teamId, /^[A-Z0-9]{10}$/);
  });
});

describe('standalone fake runner (src/fakes/main.ts)', () => {
  it('prints one JSON line to connect with, serves, writes key files, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'notify-fakes-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/fakes/main.ts', '--http-port', '0', '--apns-port', '0', '--dir', dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`runner exited early with ${code}`)));
      });
      const info = JSON.parse(line) as FakesInfo & { caFile: string; apnsKeyFile: string };
      assert.ok(info.httpPort > 0 && info.apnsPort > 0);
      assert.equal(info.httpUrl, `http://127.0.0.1:${info.httpPort}`);
      assert.equal(await readFile(info.caFile, 'utf8'), info.caPem);
      assert.equal(await readFile(info.apnsKeyFile, 'utf8'), info.apns.keyPem);
      const stats = (await (await fetch(`${info.httpUrl}/_fake/stats`)).json()) as Record<string, unknown>;
      assert.deepEqual(stats.sns, { accepted: 0, errored: 0, dropped: 0 });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
