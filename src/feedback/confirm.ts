// Confirms an SNS subscription (ConfirmSubscription with the confirmation's Token) — only ever called after the
// SubscriptionConfirmation's signature was verified. The SNS SDK is loaded on first use: an ingress rarely needs it.
import { awsClientConfig, type AwsClientSettings } from '../providers/aws.js';

export type Confirm = (topicArn: string, token: string) => Promise<string>;

/** `settings.region` is a fallback: each topic is confirmed in the region its ARN names. */
export function createConfirmer(settings: AwsClientSettings): Confirm {
  const clients = new Map<string, Promise<{ send: (topicArn: string, token: string) => Promise<string> }>>();
  const clientFor = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = import('@aws-sdk/client-sns').then(({ SNSClient, ConfirmSubscriptionCommand }) => {
        const client = new SNSClient(awsClientConfig({ ...settings, region }));
        return {
          send: async (TopicArn: string, Token: string) => (await client.send(new ConfirmSubscriptionCommand({ TopicArn, Token }))).SubscriptionArn ?? '',
        };
      });
      clients.set(region, c);
    }
    return c;
  };
  return async (topicArn, token) => (await clientFor(topicArn.split(':')[3] || settings.region)).send(topicArn, token);
}
