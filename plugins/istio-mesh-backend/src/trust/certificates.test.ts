import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { issueCertificate } from '@mesh-portal/mesh-sandbox';
import { parsePemBundle } from './certificates';

/** Bundles made with the sandbox's X.509 builder (real DER, signed), parsed as the backend does. */

const day = 86_400_000;
const now = Date.now();
const rootKeys = (() => {
  const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { algorithm: { type: 'ec' as const, curve: 'P-256' as const }, privateKey: k.privateKey, publicKey: k.publicKey };
})();
const root = issueCertificate({
  subject: [['O', 'Contoso'], ['CN', 'Root']],
  subjectKey: rootKeys.publicKey,
  subjectSigner: rootKeys,
  notBefore: new Date(now - day),
  notAfter: new Date(now + 100 * day),
  ca: true,
});
const intermediateKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const intermediate = issueCertificate({
  subject: [['O', 'Contoso'], ['L', 'aks-prod'], ['CN', 'Intermediate']],
  subjectKey: intermediateKey.publicKey,
  issuer: { name: [['O', 'Contoso'], ['CN', 'Root']], keys: rootKeys },
  notBefore: new Date(now - day),
  notAfter: new Date(now + 50 * day),
  ca: true,
  pathLength: 0,
});

describe('parsePemBundle', () => {
  it('reads every certificate of a bundle: subject, issuer, serial, validity, fingerprint, key type, CA and self-issued', () => {
    const { certificates, error } = parsePemBundle(`${root}\n${intermediate}`);
    expect(error).toBeUndefined();
    const x = new X509Certificate(intermediate);
    expect(x.checkIssued(new X509Certificate(root))).toBe(true);
    expect(certificates).toEqual([
      {
        subject: 'O=Contoso, CN=Root',
        issuer: 'O=Contoso, CN=Root',
        serialNumber: new X509Certificate(root).serialNumber.toUpperCase(),
        notBefore: new Date(new X509Certificate(root).validFrom).toISOString(),
        notAfter: new Date(new X509Certificate(root).validTo).toISOString(),
        fingerprintSha256: new X509Certificate(root).fingerprint256,
        keyType: 'EC P-256',
        isCA: true,
        selfIssued: true,
      },
      {
        subject: 'O=Contoso, L=aks-prod, CN=Intermediate',
        issuer: 'O=Contoso, CN=Root',
        serialNumber: x.serialNumber.toUpperCase(),
        notBefore: new Date(x.validFrom).toISOString(),
        notAfter: new Date(x.validTo).toISOString(),
        fingerprintSha256: x.fingerprint256,
        keyType: 'RSA 2048',
        isCA: true,
        selfIssued: false,
      },
    ]);
  });

  it('does not call a certificate self-issued when subject equals issuer but another key signed it', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const forged = issueCertificate({
      subject: [['CN', 'Root']],
      subjectKey: other.publicKey,
      issuer: { name: [['CN', 'Root']], keys: rootKeys },
      notBefore: new Date(now - day),
      notAfter: new Date(now + day),
      ca: true,
    });
    expect(parsePemBundle(forged).certificates[0]).toMatchObject({ subject: 'CN=Root', issuer: 'CN=Root', selfIssued: false });
  });

  it.each([
    [undefined, 'the ConfigMap has no root-cert.pem'],
    ['', 'root-cert.pem is empty'],
    ['  \n', 'root-cert.pem is empty'],
    ['not a certificate', 'root-cert.pem holds no PEM certificate'],
    ['-----BEGIN CERTIFICATE-----\nMIIB\n', 'root-cert.pem holds no PEM certificate'],
  ])('reports %j as %s', (pem, message) => {
    expect(parsePemBundle(pem)).toEqual({ certificates: [], error: message });
  });

  it('keeps the good certificates of a bundle with a bad block, and says which block', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const result = parsePemBundle(`${root}${garbage}${key}`);
    expect(result.certificates.map(c => c.subject)).toEqual(['O=Contoso, CN=Root']);
    expect(result.error).toMatch(/^block 2 of 3 is not a valid X\.509 certificate \(.+\); block 3 of 3 is a PRIVATE KEY, not a CERTIFICATE$/);
  });
});
