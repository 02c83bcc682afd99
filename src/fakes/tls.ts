// Key material for the fakes: a throwaway CA + localhost server certificate (ECDSA P-256) and an APNs-style .p8 key.
import { createPrivateKey, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';

/** PEMs for a TLS fake: trust `caPem` on the client, serve `certPem` + `keyPem`. */
export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** An APNs token-auth key as Apple hands it out (PKCS#8 PEM), plus ids of the right shape. */
export interface ApnsKeyMaterial {
  keyPem: string;
  publicKeyPem: string;
  keyId: string;
  teamId: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

// Node has no X.509 writer; @peculiar/x509 builds certificates on WebCrypto (ECDSA keys: a few ms, no openssl binary).
// It needs a Reflect metadata polyfill, loaded here only, so processes that never start a fake never load either.
async function loadX509(): Promise<typeof import('@peculiar/x509')> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return x509;
}

async function toPkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Generates a CA and a server certificate for `localhost`, 127.0.0.1 and ::1 (plus `extraNames`), valid 30 days.
 * @example const { caPem, certPem, keyPem } = await generateTlsMaterial();
 */
export async function generateTlsMaterial(extraNames: string[] = []): Promise<TlsMaterial> {
  const x509 = await loadX509();
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + 30 * DAY_MS);
  const caKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=notify fake provider CA',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const names = [
    { type: 'dns' as const, value: 'localhost' },
    { type: 'ip' as const, value: '127.0.0.1' },
    { type: 'ip' as const, value: '::1' },
    ...extraNames.map((value) => ({ type: 'dns' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem: await toPkcs8Pem(serverKeys.privateKey) };
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function appleId(): string {
  const bytes = randomBytes(10);
  let out = '';
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return out;
}

/**
 * Generates an ES256 key like an APNs .p8 file, with random 10-character key and team ids.
 * @example const { keyPem, keyId, teamId } = generateApnsKey();
 */
export function generateApnsKey(): ApnsKeyMaterial {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: appleId(),
    teamId: appleId(),
  };
}
