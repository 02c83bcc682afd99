// Shared AWS SDK v3 client settings (no SDK retries, real timeouts, keep-alive) and error reading for SES and SNS.
import type { ProviderAnswer } from './classify.js';

export interface AwsClientSettings {
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  timeoutMs: number;
}

// Enough sockets for the bench's concurrency; the SDK default (50) queues sends and warns.
const MAX_SOCKETS = 256;

/** Client config: maxAttempts 1 so our retry policy is the only one; timeouts that throw instead of only warning. */
export function awsClientConfig(s: AwsClientSettings) {
  // Silence the SDK's Node-version notice (providers.md); harmless when already set.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.accessKeyId && s.secretAccessKey ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } } : {}),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: s.timeoutMs,
      requestTimeout: s.timeoutMs,
      // Without this, @smithy/node-http-handler only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    },
  };
}

interface AwsError {
  name?: string;
  message?: string;
  Code?: string;
  Error?: { Code?: string };
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** The provider's answer inside an SDK exception, or undefined when no HTTP answer arrived (network, timeout). */
export function awsAnswer(err: unknown): ProviderAnswer | undefined {
  const e = err as AwsError | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (!e || typeof status !== 'number') return undefined;
  // awsQuery (SNS) errors carry the wire code (Throttled) apart from the class name (ThrottledException).
  const code = e.Code ?? e.Error?.Code ?? e.name;
  return { status, code, detail: e.message, retryAfter: e.$response?.headers?.['retry-after'] };
}
