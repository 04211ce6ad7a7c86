import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSelfSignedCert } from './selfSignedCert';

describe('createSelfSignedCert', () => {
  it('makes a self-signed CA certificate for the given hosts, with its key', () => {
    const { certPem, keyPem } = createSelfSignedCert({ commonName: 'sandbox-test', hosts: ['localhost', '127.0.0.1', '::1', 'sandbox.internal'], validDays: 30 });
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=sandbox-test');
    expect(cert.issuer).toBe('CN=sandbox-test');
    expect(cert.ca).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:sandbox.internal');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(days).toBe(31); // valid from a day back
    expect(cert.checkHost('sandbox.internal')).toBe('sandbox.internal');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });
});
