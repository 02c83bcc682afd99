// Builds what the feedback routes need from configuration: SNS verification and confirmation for SES events, the
// Twilio signature check, and the store they apply to.
import type https from 'node:https';
import type { Redis } from 'ioredis';
import type { FeedbackConfig } from '../config.js';
import type { FeedbackRouteDeps } from '../http/routes/feedback.js';
import type { Logger } from '../log.js';
import type { ProvidersConfig } from '../providers/config.js';
import { FeedbackStore } from '../store/feedback.js';
import type { History } from '../history/index.js';
import { lateFeedbackToHistory } from './late.js';
import type { Keys } from '../streams/keys.js';
import type { Metrics } from '../telemetry/metrics.js';
import { feedbackApplier } from './apply.js';
import { createConfirmer } from './confirm.js';
import { SnsVerifier } from './sns.js';
import { createTwilioCheck } from './twilio.js';

export interface FeedbackSetup {
  config: FeedbackConfig;
  /** Provider settings in use: Twilio's auth token; SNS's endpoint and SNS's (or SES's) credentials (for ConfirmSubscription). */
  providers: ProvidersConfig;
  /** Test and sandbox seam: how SNS signing certificates are fetched (host checks unchanged). */
  snsCertAgent?: https.Agent;
  redis: Redis;
  keys: Keys;
  retentionMs: number;
  metrics: Metrics;
  log: Logger;
  maxBodyBytes: number;
  /** With history: feedback for a delivery whose Redis record has expired goes to it (see late.ts). */
  history?: History;
}

export function feedbackDeps(s: FeedbackSetup): FeedbackRouteDeps {
  const { config, providers } = s;
  const sns = providers.sns;
  // SES events usually come without SMS over SNS: then the SES account's credentials confirm (the endpoint is SNS's own).
  const creds = sns?.accessKeyId ? sns : providers.ses;
  const ses = config.sesTopicArns.length === 0 ? undefined : {
    verifier: new SnsVerifier({ topicArns: config.sesTopicArns, ...(s.snsCertAgent && { agent: s.snsCertAgent }) }),
    confirm: createConfirmer({
      region: sns?.region ?? providers.ses?.region ?? 'us-east-1', timeoutMs: 5_000,
      ...(sns?.endpoint && { endpoint: sns.endpoint }),
      ...(creds?.accessKeyId && creds.secretAccessKey && { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }),
    }),
  };
  const twilio = config.publicUrl && providers.twilio
    ? { check: createTwilioCheck(providers.twilio.authToken), publicUrl: config.publicUrl }
    : undefined;
  const store = new FeedbackStore(s.redis, s.keys, s.retentionMs);
  if (s.history) store.late = lateFeedbackToHistory(s.history, store.events);
  return {
    apply: feedbackApplier(store, s.metrics), store,
    ...(ses && { ses }), ...(twilio && { twilio }), metrics: s.metrics, log: s.log, maxBodyBytes: s.maxBodyBytes,
  };
}

/** Where Twilio is told to post status callbacks, when the service has a public URL. */
export function withStatusCallback(providers: ProvidersConfig, publicUrl: string | undefined): ProvidersConfig {
  if (!publicUrl || !providers.twilio || providers.twilio.statusCallbackUrl) return providers;
  return { ...providers, twilio: { ...providers.twilio, statusCallbackUrl: `${publicUrl}/v1/feedback/twilio` } };
}
