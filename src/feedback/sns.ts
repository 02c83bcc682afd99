// Checks that an SNS HTTP(S) delivery is what Amazon SNS sent: one of its three message types, from an allowed
// topic, signed (SignatureVersion 1: RSA-SHA1, 2: RSA-SHA256) by the certificate at a SigningCertURL on an SNS host
// over https. Written on node:crypto rather than sns-payload-validator, which caches whatever a certificate URL
// answered (an error page included) for good and fetches with no timeout or size bound.
import { X509Certificate, createVerify } from 'node:crypto';
import https from 'node:https';

export const SNS_CERT_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;
/** SNS's signing certificates are published under this name only: anything else is not fetched. */
const SNS_CERT_PATH = /^\/SimpleNotificationService-[0-9a-f]{32}\.pem$/;
const TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;
const MAX_CERT_BYTES = 16_384;

export interface SnsMessage {
  Type: (typeof TYPES)[number];
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
}

/** Why a message is refused: 400 malformed, 403 not from SNS (or not for us), 503 the certificate could not be had now. */
export type SnsRefusal = { status: 400 | 403 | 503; code: 'invalid_sns_message' | 'topic_not_allowed' | 'invalid_signature' | 'unavailable'; message: string };

export interface SnsVerifierOptions {
  /** TopicArns whose messages are accepted; anything else is refused before any certificate is fetched. */
  topicArns: readonly string[];
  /** Agent for fetching certificates: a test seam (the URL's host pattern and TLS checks still apply). */
  agent?: https.Agent;
  timeoutMs?: number;
}

/** Pure: the string SNS signs — `key\nvalue\n` for each field present, in this order. */
export function stringToSign(m: Record<string, unknown>): string {
  const names = m.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return names.filter((n) => typeof m[n] === 'string').map((n) => `${n}\n${m[n] as string}\n`).join('');
}

/** Pure: the certificate URL, when it is https on an SNS host (no port, no credentials) naming an SNS certificate; else undefined. */
export function certUrl(raw: unknown): URL | undefined {
  if (typeof raw !== 'string') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  const ok = u.protocol === 'https:' && u.port === '' && !u.username && !u.password && SNS_CERT_HOST.test(u.hostname) && SNS_CERT_PATH.test(u.pathname);
  return ok ? u : undefined;
}

class CertUnavailable extends Error {}

export class SnsVerifier {
  private readonly topics: ReadonlySet<string>;
  /** Only certificates that parsed are kept; a failed fetch is tried again next time. */
  private readonly certs = new Map<string, X509Certificate>();

  constructor(private readonly opts: SnsVerifierOptions) {
    this.topics = new Set(opts.topicArns);
  }

  /** The message, or why it is refused. `headerType` is x-amz-sns-message-type, which must agree with the body. */
  async verify(body: string, headerType?: string): Promise<{ ok: true; message: SnsMessage } | ({ ok: false } & SnsRefusal)> {
    const refuse = (status: SnsRefusal['status'], code: SnsRefusal['code'], message: string) => ({ ok: false as const, status, code, message });
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return refuse(400, 'invalid_sns_message', 'the body is not an SNS message (not JSON)');
    }
    if (!m || typeof m !== 'object' || !TYPES.includes(m.Type as SnsMessage['Type'])) return refuse(400, 'invalid_sns_message', 'Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation');
    if (headerType !== undefined && headerType !== m.Type) return refuse(400, 'invalid_sns_message', 'x-amz-sns-message-type does not match the message Type');
    for (const f of ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'Signature'] as const) {
      if (typeof m[f] !== 'string') return refuse(400, 'invalid_sns_message', `${f} is missing`);
    }
    if (!this.topics.has(m.TopicArn as string)) return refuse(403, 'topic_not_allowed', 'messages from this TopicArn are not accepted (NOTIFY_SES_EVENTS_TOPIC_ARNS)');
    const alg = m.SignatureVersion === '1' ? 'RSA-SHA1' : m.SignatureVersion === '2' ? 'RSA-SHA256' : undefined;
    if (!alg) return refuse(403, 'invalid_signature', 'SignatureVersion must be 1 or 2');
    const url = certUrl(m.SigningCertURL);
    if (!url) return refuse(403, 'invalid_signature', 'SigningCertURL must be an https URL on an SNS host');
    let cert: X509Certificate;
    try {
      cert = await this.cert(url);
    } catch (err) {
      if (err instanceof CertUnavailable) return refuse(503, 'unavailable', `the signing certificate could not be fetched now: ${err.message}`);
      return refuse(403, 'invalid_signature', `the signing certificate could not be used: ${(err as Error).message}`);
    }
    const valid = createVerify(alg).update(stringToSign(m), 'utf8').verify(cert.publicKey, m.Signature as string, 'base64');
    return valid ? { ok: true, message: m as unknown as SnsMessage } : refuse(403, 'invalid_signature', 'the signature does not match the message');
  }

  private async cert(url: URL): Promise<X509Certificate> {
    const cached = this.certs.get(url.href);
    if (cached && Date.parse(cached.validTo) > Date.now()) return cached;
    const pem = await fetchText(url, this.opts.agent, this.opts.timeoutMs ?? 5_000);
    const cert = new X509Certificate(pem);
    const now = Date.now();
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) <= now) throw new Error('it is not valid now');
    if (this.certs.size >= 32) this.certs.delete(this.certs.keys().next().value!);
    this.certs.set(url.href, cert);
    return cert;
  }
}

/** GETs a small text over https; 4xx and a body too large are the URL's fault (Error), the rest ours (CertUnavailable). */
function fetchText(url: URL, agent: https.Agent | undefined, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...(agent && { agent }), timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        return reject(status >= 400 && status < 500 ? new Error(`it answered ${status}`) : new CertUnavailable(`it answered ${status}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_CERT_BYTES) req.destroy(new Error('it is too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err) => reject(err instanceof CertUnavailable ? err : new CertUnavailable(err.message)));
    });
    // `timeout` is only an idle limit: the deadline covers a server that trickles its answer too.
    const deadline = setTimeout(() => req.destroy(new CertUnavailable(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new CertUnavailable(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof CertUnavailable || err.message === 'it is too large' ? err : new CertUnavailable(err.message)));
  });
}
