// The provider part of the configuration: which providers the environment enables, and their settings.
import { ConfigError } from './config-error.js';
import type { Env } from './config.js';
import { answerBoundMs } from './domain/retry.js';
import type { ProvidersConfig } from './providers/config.js';

function need(e: Env, names: (keyof Env)[], what: string): void {
  const missing = names.filter((n) => e[n] === undefined);
  if (missing.length) throw new ConfigError(`${what} is partly configured: set ${missing.join(', ')}`);
}

/**
 * `sendTimeoutMs` is NOTIFY_SEND_TIMEOUT_MS: the channel actors note a send unanswered after it; the SDKs themselves
 * are given the longer answer bound, so that a late answer is still heard (see answerBoundMs).
 */
export function providersFromEnv(e: Env, sendTimeoutMs: number, readFile: (p: string) => string): ProvidersConfig {
  const timeoutMs = answerBoundMs(sendTimeoutMs);
  const p: ProvidersConfig = {};
  if (e.NOTIFY_APNS_KEY_FILE || e.NOTIFY_APNS_KEY_ID) {
    need(e, ['NOTIFY_APNS_KEY_FILE', 'NOTIFY_APNS_KEY_ID', 'NOTIFY_APNS_TEAM_ID', 'NOTIFY_APNS_TOPIC'], 'APNs');
    p.apns = {
      key: readFile(e.NOTIFY_APNS_KEY_FILE!), keyId: e.NOTIFY_APNS_KEY_ID!, teamId: e.NOTIFY_APNS_TEAM_ID!,
      topic: e.NOTIFY_APNS_TOPIC!, production: e.NOTIFY_APNS_PRODUCTION, address: e.NOTIFY_APNS_HOST,
      port: e.NOTIFY_APNS_PORT, ca: e.NOTIFY_APNS_CA_FILE ? readFile(e.NOTIFY_APNS_CA_FILE) : undefined, timeoutMs,
    };
  }
  if (e.NOTIFY_FCM_PROJECT_ID || e.NOTIFY_FCM_SERVICE_ACCOUNT_FILE || e.NOTIFY_FCM_ACCESS_TOKEN) {
    need(e, ['NOTIFY_FCM_PROJECT_ID'], 'FCM');
    if (!e.NOTIFY_FCM_SERVICE_ACCOUNT_FILE === !e.NOTIFY_FCM_ACCESS_TOKEN) {
      throw new ConfigError('FCM needs one of NOTIFY_FCM_SERVICE_ACCOUNT_FILE or NOTIFY_FCM_ACCESS_TOKEN');
    }
    p.fcm = {
      projectId: e.NOTIFY_FCM_PROJECT_ID!,
      ...(e.NOTIFY_FCM_SERVICE_ACCOUNT_FILE && { serviceAccountJson: readFile(e.NOTIFY_FCM_SERVICE_ACCOUNT_FILE) }),
      ...(e.NOTIFY_FCM_ACCESS_TOKEN && { accessToken: e.NOTIFY_FCM_ACCESS_TOKEN }),
      ...(e.NOTIFY_FCM_ENDPOINT && { endpoint: fcmEndpoint(e.NOTIFY_FCM_ENDPOINT, e.NOTIFY_FCM_CA_FILE ? readFile(e.NOTIFY_FCM_CA_FILE) : undefined) }),
      timeoutMs, maxSockets: 64,
    };
  } else if (e.NOTIFY_FCM_ENDPOINT || e.NOTIFY_FCM_CA_FILE) {
    throw new ConfigError('FCM is partly configured: set NOTIFY_FCM_PROJECT_ID and a credential');
  }
  if (e.NOTIFY_TWILIO_ACCOUNT_SID || e.NOTIFY_TWILIO_AUTH_TOKEN) {
    need(e, ['NOTIFY_TWILIO_ACCOUNT_SID', 'NOTIFY_TWILIO_AUTH_TOKEN'], 'Twilio');
    if (!e.NOTIFY_TWILIO_FROM && !e.NOTIFY_TWILIO_MESSAGING_SERVICE_SID) {
      throw new ConfigError('Twilio needs NOTIFY_TWILIO_FROM or NOTIFY_TWILIO_MESSAGING_SERVICE_SID');
    }
    p.twilio = {
      accountSid: e.NOTIFY_TWILIO_ACCOUNT_SID!, authToken: e.NOTIFY_TWILIO_AUTH_TOKEN!, from: e.NOTIFY_TWILIO_FROM,
      messagingServiceSid: e.NOTIFY_TWILIO_MESSAGING_SERVICE_SID, baseUrl: e.NOTIFY_TWILIO_BASE_URL, timeoutMs,
    };
  }
  if (e.NOTIFY_SES_REGION || e.NOTIFY_SES_FROM) {
    need(e, ['NOTIFY_SES_REGION', 'NOTIFY_SES_FROM'], 'SES');
    p.ses = {
      region: e.NOTIFY_SES_REGION!, from: e.NOTIFY_SES_FROM!, endpoint: e.NOTIFY_SES_ENDPOINT,
      configurationSetName: e.NOTIFY_SES_CONFIGURATION_SET, timeoutMs,
    };
  }
  if (e.NOTIFY_SNS_REGION) {
    p.sns = { region: e.NOTIFY_SNS_REGION, endpoint: e.NOTIFY_SNS_ENDPOINT, senderId: e.NOTIFY_SNS_SENDER_ID, timeoutMs };
  }
  return p;
}

/** `http://host:port` connects in plain HTTP (a fake); `https://host:port` or `host:port` over TLS, trusting `ca` if given. */
function fcmEndpoint(raw: string, ca: string | undefined): NonNullable<NonNullable<ProvidersConfig['fcm']>['endpoint']> {
  const m = /^(?:(https?):\/\/)?([A-Za-z0-9.-]+):(\d+)\/?$/.exec(raw)!;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) throw new ConfigError(`NOTIFY_FCM_ENDPOINT: port ${port} is out of range`);
  const tls = m[1] !== 'http';
  if (!tls && ca) throw new ConfigError('NOTIFY_FCM_CA_FILE is for a TLS endpoint (https:// or host:port), not http://');
  return { host: m[2]!, port, tls, ...(ca && { ca }) };
}
