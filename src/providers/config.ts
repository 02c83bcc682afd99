// Plain configuration objects for each provider adapter; built by the entry point (or the sandbox), never read from env here.
// Each `timeoutMs` is the SDK's bound for one request: the send timeout plus the time a late answer is still heard
// (answerBoundMs); the channel actors apply the send timeout itself.

export interface ApnsConfig {
  /** ES256 auth key (.p8) PEM. */
  key: string;
  keyId: string;
  teamId: string;
  /** Bundle id sent as apns-topic. */
  topic: string;
  production: boolean;
  /** Override host (fake provider); defaults to Apple's. */
  address?: string;
  port?: number;
  /** Extra CA PEM to trust (fake provider's certificate). */
  ca?: string;
  timeoutMs: number;
}

export interface FcmConfig {
  projectId: string;
  /** Service-account JSON (real FCM). Absent when pointed at a fake with a static token. */
  serviceAccountJson?: string;
  /** A fixed OAuth access token used instead of a service account (a fake, or a token minted elsewhere). */
  accessToken?: string;
  /** Point the SDK at a fake: every connection goes to host:port (TLS if tls, trusting ca). */
  endpoint?: { host: string; port: number; tls: boolean; ca?: string };
  timeoutMs: number;
  maxSockets: number;
}

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  /** Base URL of a fake, e.g. http://127.0.0.1:4010; absent for the real API. */
  baseUrl?: string;
  /** Where Twilio posts status callbacks (this service's `/v1/feedback/twilio`, public); each message adds its delivery as the query. */
  statusCallbackUrl?: string;
  timeoutMs: number;
}

export interface SesConfig {
  region: string;
  from: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  configurationSetName?: string;
  timeoutMs: number;
}

export interface SnsConfig {
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  senderId?: string;
  timeoutMs: number;
}

export interface ProvidersConfig {
  apns?: ApnsConfig;
  fcm?: FcmConfig;
  twilio?: TwilioConfig;
  ses?: SesConfig;
  sns?: SnsConfig;
}
