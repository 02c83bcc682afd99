// Amazon SNS topics as the fake runs them: HTTP(S) subscriptions confirmed the real way (a signed
// SubscriptionConfirmation to the endpoint, which answers with ConfirmSubscription), and signed Notifications
// (SignatureVersion 1: RSA-SHA1, 2: RSA-SHA256) published to every confirmed subscription. The signing certificate
// is served over TLS at an SNS-shaped SigningCertURL (see sns-cert-server.ts).
import { createPrivateKey, createSign, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { stringToSign } from '../feedback/sns.js';
import type { CallbackLog } from './callback-log.js';

export const FAKE_ACCOUNT = '123456789012';
export const SNS_CERT_HOST = 'sns.us-east-1.amazonaws.com';
/** The topic the fake SES publishes its events to (every configuration set's event destination). */
export const SES_EVENTS_TOPIC = `arn:aws:sns:us-east-1:${FAKE_ACCOUNT}:notify-ses-events`;

export interface Subscription {
  arn: string;
  topicArn: string;
  endpoint: string;
  signatureVersion: '1' | '2';
  confirmed: boolean;
  token: string;
}

export interface SigningCert {
  /** Path of the certificate at SNS_CERT_HOST. */
  path: string;
  certPem: string;
  keyPem: string;
}

/** An RSA-2048 key and a self-signed certificate for it, like the one SNS signs with. */
export async function generateSigningCert(): Promise<SigningCert> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'), name: 'CN=sns.amazonaws.com', keys, signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 30 * 86_400_000),
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { path: `/SimpleNotificationService-${randomBytes(16).toString('hex')}.pem`, certPem: cert.toString('pem'), keyPem };
}

export class SnsTopics {
  private readonly subs: Subscription[] = [];
  private cert: Promise<SigningCert> | undefined;

  constructor(private readonly log: CallbackLog) {}

  /** Made on first use: an RSA key takes a few hundred ms, which fakes that never sign should not pay. */
  signingCert(): Promise<SigningCert> {
    this.cert ??= generateSigningCert();
    return this.cert;
  }

  list(): Subscription[] {
    return this.subs.map((s) => ({ ...s }));
  }

  /** Subscribes an HTTP(S) endpoint: it gets a SubscriptionConfirmation now (resolves once it answered). */
  async subscribe(endpoint: string, opts: { topicArn?: string; signatureVersion?: 1 | 2 } = {}): Promise<Subscription> {
    const topicArn = opts.topicArn ?? SES_EVENTS_TOPIC;
    const sub: Subscription = {
      arn: `${topicArn}:${randomUUID()}`, topicArn, endpoint, signatureVersion: opts.signatureVersion === 2 ? '2' : '1',
      confirmed: false, token: randomBytes(64).toString('hex'),
    };
    this.subs.push(sub);
    const region = topicArn.split(':')[3] ?? 'us-east-1';
    await this.post(sub, {
      Type: 'SubscriptionConfirmation', MessageId: randomUUID(), Token: sub.token, TopicArn: topicArn,
      Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `https://sns.${region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${sub.token}`,
      Timestamp: new Date().toISOString(),
    });
    return { ...sub };
  }

  /** ConfirmSubscription: the subscription's ARN, or undefined for an unknown token. */
  confirm(topicArn: string, token: string): string | undefined {
    const sub = this.subs.find((s) => s.topicArn === topicArn && s.token === token);
    if (!sub) return undefined;
    sub.confirmed = true;
    return sub.arn;
  }

  /** Publishes to every confirmed subscription of the topic (sequentially, as one delivery each). */
  async publish(topicArn: string, message: string, subject?: string): Promise<void> {
    const messageId = randomUUID();
    for (const sub of this.subs.filter((s) => s.topicArn === topicArn && s.confirmed)) {
      await this.post(sub, {
        Type: 'Notification', MessageId: messageId, TopicArn: topicArn, ...(subject !== undefined && { Subject: subject }), Message: message,
        Timestamp: new Date().toISOString(),
        UnsubscribeURL: `https://${SNS_CERT_HOST}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(sub.arn)}`,
      });
    }
  }

  hasSubscribers(topicArn: string): boolean {
    return this.subs.some((s) => s.topicArn === topicArn && s.confirmed);
  }

  /** Signs a message as SNS would for a subscription of this signature version. */
  async sign(m: Record<string, string>, version: '1' | '2' = '1'): Promise<Record<string, string>> {
    const cert = await this.signingCert();
    const signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256').update(stringToSign(m)).sign(cert.keyPem, 'base64');
    return { ...m, SignatureVersion: version, Signature: signature, SigningCertURL: `https://${SNS_CERT_HOST}${cert.path}` };
  }

  private async post(sub: Subscription, m: Record<string, string>): Promise<void> {
    const body = JSON.stringify(await this.sign(m, sub.signatureVersion));
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=UTF-8', 'user-agent': 'Amazon Simple Notification Service Agent',
      'x-amz-sns-message-type': m.Type!, 'x-amz-sns-message-id': m.MessageId!, 'x-amz-sns-topic-arn': sub.topicArn,
      ...(m.Type !== 'SubscriptionConfirmation' && { 'x-amz-sns-subscription-arn': sub.arn }),
    };
    await this.log.post('sns', m.Type!, sub.endpoint, headers, body);
  }
}
