// Checks X-Twilio-Signature with the twilio SDK's own validateRequest, against the public URL Twilio was given as
// StatusCallback. The SDK (~250 ms to load) is loaded on the first callback.

export type TwilioCheck = (signature: string, url: string, params: Record<string, string>) => Promise<boolean>;

type Validate = (authToken: string, signature: string, url: string, params: Record<string, string>) => boolean;

export function createTwilioCheck(authToken: string): TwilioCheck {
  let validate: Promise<Validate> | undefined;
  return async (signature, url, params) => {
    validate ??= import('twilio').then((m) => m.default.validateRequest as Validate);
    return (await validate)(authToken, signature, url, params);
  };
}
