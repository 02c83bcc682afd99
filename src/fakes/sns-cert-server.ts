// Serves the fake SNS signing certificate over TLS, as sns.<region>.amazonaws.com does; its TLS certificate names
// SNS_CERT_HOST and is signed by the fakes' CA, so a client reaches it only through an explicit test agent.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SnsTopics } from './sns-topics.js';
import type { TlsMaterial } from './tls.js';

export interface CertServer {
  port: number;
  close(): Promise<void>;
}

export function startCertServer(host: string, tls: TlsMaterial, topics: SnsTopics): Promise<CertServer> {
  const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    void topics.signingCert().then((cert) => {
      if (req.method === 'GET' && req.url === cert.path) res.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' }).end(cert.certPem);
      else res.writeHead(404, { 'content-type': 'text/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve({
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
    }));
  });
}
