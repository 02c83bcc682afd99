// createAdapters: only configured providers, only their SDKs loaded, every adapter working against the fakes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { sandboxProvidersConfig, startFakes } from '../src/fakes/index.js';
import { closeAdapters, createAdapters } from '../src/providers/index.js';

const loaded = (pkg: string) => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes(`/node_modules/${pkg}/`));

describe('createAdapters', () => {
  it('loads only the SDKs of configured providers', async () => {
    const fakes = await startFakes();
    try {
      const adapters = await createAdapters(sandboxProvidersConfig(fakes, { apns: null, fcm: null, twilio: null }));
      try {
        assert.deepEqual([...adapters.keys()].sort(), ['ses', 'sns']);
        assert.equal(loaded('twilio'), false, 'twilio must not be loaded');
        assert.equal(loaded('firebase-admin'), false, 'firebase-admin must not be loaded');
        assert.equal(loaded('@parse/node-apn'), false, 'node-apn must not be loaded');
      } finally {
        await closeAdapters(adapters);
      }

      const all = await createAdapters(sandboxProvidersConfig(fakes));
      try {
        assert.deepEqual([...all.keys()].sort(), ['apns', 'fcm', 'ses', 'sns', 'twilio']);
        assert.equal(loaded('twilio'), true);
        for (const a of all.values()) {
          assert.equal(a.channel, { apns: 'push', fcm: 'push', twilio: 'sms', sns: 'sms', ses: 'email' }[a.name]);
        }
      } finally {
        await closeAdapters(all);
      }
    } finally {
      await fakes.close();
    }
  });

  it('fails start-up clearly on bad provider configuration', async () => {
    await assert.rejects(
      createAdapters({ twilio: { accountSid: 'AC00000000000000000000000000000001', authToken: 't', timeoutMs: 1000 } }),
      /twilio: set from or messagingServiceSid/,
    );
  });
});
