import { X509Certificate } from 'node:crypto';
import { CertificateFacts } from '@mesh-portal/plugin-istio-mesh-common';

/**
 * PEM bundles (`root-cert.pem`) to certificate facts with node's `crypto.X509Certificate`.
 * A bundle that is empty, not PEM, or holds a block that is not X.509 is reported with
 * what did parse, never thrown: one namespace's bad ConfigMap must not hide the others.
 */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export function certificateFacts(cert: X509Certificate): CertificateFacts {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  let keyType: string;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      keyType = `RSA ${details.modulusLength ?? '?'}`;
      break;
    case 'ec':
      keyType = `EC ${CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? '?'}`;
      break;
    case 'ed25519':
      keyType = 'Ed25519';
      break;
    default:
      keyType = key.asymmetricKeyType?.toUpperCase() ?? 'unknown';
  }
  let selfIssued = false;
  if (cert.subject === cert.issuer) {
    try {
      selfIssued = cert.checkIssued(cert) && cert.verify(cert.publicKey);
    } catch {
      selfIssued = false; // an algorithm node cannot verify: not provably self-issued
    }
  }
  return {
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', '),
    serialNumber: cert.serialNumber.toUpperCase(),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprintSha256: cert.fingerprint256,
    keyType,
    isCA: cert.ca,
    selfIssued,
  };
}

export interface ParsedBundle {
  certificates: CertificateFacts[];
  error?: string;
}

export function parsePemBundle(pem: string | undefined): ParsedBundle {
  if (pem === undefined) return { certificates: [], error: 'the ConfigMap has no root-cert.pem' };
  if (pem.trim() === '') return { certificates: [], error: 'root-cert.pem is empty' };
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return { certificates: [], error: 'root-cert.pem holds no PEM certificate' };
  const certificates: CertificateFacts[] = [];
  const problems: string[] = [];
  blocks.forEach((block, i) => {
    const which = `block ${i + 1} of ${blocks.length}`;
    if (block[1] !== 'CERTIFICATE') {
      problems.push(`${which} is a ${block[1]}, not a CERTIFICATE`);
      return;
    }
    try {
      certificates.push(certificateFacts(new X509Certificate(block[0])));
    } catch (error) {
      problems.push(`${which} is not a valid X.509 certificate (${(error as Error).message})`);
    }
  });
  return problems.length ? { certificates, error: problems.join('; ') } : { certificates };
}
