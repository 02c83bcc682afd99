// The explicit test seam for SNS signature checks: an https.Agent that takes every connection to the fakes' TLS
// certificate server, while the URL (host pattern), SNI and certificate checks stay what they are in production.
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { FakesInfo } from './index.js';

/**
 * @example verifier = new SnsVerifier({ topicArns, agent: snsCertAgent(fakes) });
 */
export function snsCertAgent(info: Pick<FakesInfo, 'host' | 'snsCertPort' | 'caPem'>): https.Agent {
  class FakeSnsAgent extends https.Agent {
    override createConnection(options: https.RequestOptions, _cb?: (err: Error | null, s: Duplex) => void): Duplex {
      // The TLS handshake still names (and verifies) the host of the SigningCertURL.
      const servername = (options as tls.ConnectionOptions).servername ?? options.hostname ?? options.host ?? undefined;
      return tls.connect({ host: info.host, port: info.snsCertPort, servername: servername ?? undefined, ca: info.caPem });
    }
  }
  return new FakeSnsAgent({ keepAlive: false, ca: info.caPem });
}
