// SMS failover adapter on Amazon SNS Publish to a phone number, always as a Transactional SMS.
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { awsAnswer, awsClientConfig } from './aws.js';
import { classifySns } from './classify.js';
import type { SnsConfig } from './config.js';
import { guardedSend, wrongChannel } from './guard.js';
import type { ProviderAdapter, SmsMessage } from './types.js';

/** The Publish request for one SMS. */
export function buildSnsRequest(m: SmsMessage, senderId?: string): PublishCommandInput {
  const attributes: NonNullable<PublishCommandInput['MessageAttributes']> = {
    // Transactional: higher delivery priority than Promotional, which notifications need.
    'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
  };
  if (senderId) attributes['AWS.SNS.SMS.SenderID'] = { DataType: 'String', StringValue: senderId };
  return { PhoneNumber: m.to, Message: m.content.body, MessageAttributes: attributes };
}

export function createSnsAdapter(cfg: SnsConfig): ProviderAdapter {
  const client = new SNSClient(awsClientConfig(cfg));
  return {
    name: 'sns',
    channel: 'sms',
    send(message) {
      const wrong = wrongChannel('sns', 'sms', message);
      if (wrong) return Promise.resolve(wrong);
      const command = new PublishCommand(buildSnsRequest(message as SmsMessage, cfg.senderId));
      return guardedSend(
        'sns',
        cfg.timeoutMs,
        async (signal) => {
          const out = await client.send(command, { abortSignal: signal });
          return { ok: true, providerMessageId: out.MessageId ?? '' };
        },
        (err) => {
          const answer = awsAnswer(err);
          return answer ? classifySns(answer) : undefined;
        },
      );
    },
    close: async () => client.destroy(),
  };
}
