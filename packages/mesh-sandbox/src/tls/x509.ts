import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';
import { integer, oid, pem, seq, set, time, tlv } from './selfSignedCert';

/**
 * CA certificates for the simulated meshes, DER-encoded by hand like ./selfSignedCert.ts
 * (no dependency): istiod's self-signed root, and the roots of a plug-in CA. They are
 * real X.509 (node's `X509Certificate` parses them, `verify`/`checkIssued` hold), so the
 * portal's certificate parsing runs on real input.
 */

export type KeyAlgorithm = { type: 'rsa'; bits: 2048 | 3072 | 4096 } | { type: 'ec'; curve: 'P-256' | 'P-384' };

export interface CaKeyPair {
  algorithm: KeyAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A distinguished name as (attribute, value) pairs in order, e.g. `[['O', 'cluster.local']]`. */
export type DistinguishedName = Array<['C' | 'O' | 'OU' | 'L' | 'CN', string]>;

const NAME_OIDS = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', L: '2.5.4.7', CN: '2.5.4.3' } as const;
const CURVE_NAMES = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' } as const;

// Key generation (RSA 2048 takes ~100 ms here) dominates; the demo fleet is built many
// times per test run, so keys are made once per process and label. Certificates (and so
// serials, validity and fingerprints) are still made per fleet.
const keyCache = new Map<string, CaKeyPair>();

/** A key pair for `label`, generated once per process. */
export function caKeyPair(label: string, algorithm: KeyAlgorithm): CaKeyPair {
  const cacheKey = `${label}/${JSON.stringify(algorithm)}`;
  let pair = keyCache.get(cacheKey);
  if (!pair) {
    const keys =
      algorithm.type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: algorithm.bits })
        : generateKeyPairSync('ec', { namedCurve: CURVE_NAMES[algorithm.curve] });
    pair = { algorithm, privateKey: keys.privateKey, publicKey: keys.publicKey };
    keyCache.set(cacheKey, pair);
  }
  return pair;
}

export interface IssueOptions {
  subject: DistinguishedName;
  /** The subject's public key. */
  subjectKey: KeyObject;
  /** Who signs: omit for a self-signed certificate (then `subjectSigner` signs). */
  issuer?: { name: DistinguishedName; keys: CaKeyPair };
  /** The private key of a self-signed certificate's subject. */
  subjectSigner?: CaKeyPair;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (basicConstraints CA:TRUE, keyCertSign); otherwise a leaf. */
  ca: boolean;
  pathLength?: number;
}

/** Issues an X.509 v3 certificate and returns it as PEM. */
export function issueCertificate(options: IssueOptions): string {
  const signer = options.issuer?.keys ?? options.subjectSigner;
  if (!signer) throw new Error('issueCertificate needs an issuer or the subject’s own key');
  const issuerName = options.issuer?.name ?? options.subject;
  const issuerPublicKey = options.issuer?.keys.publicKey ?? options.subjectKey;
  const { algorithmId, hash } = signatureAlgorithm(signer.algorithm);
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, no leading zero byte (see selfSignedCert.ts)
  const spki = options.subjectKey.export({ type: 'spki', format: 'der' });
  const extensions = [
    // basicConstraints, critical
    seq(
      oid('2.5.29.19'),
      tlv(0x01, Buffer.from([0xff])),
      tlv(
        0x04,
        options.ca
          ? seq(tlv(0x01, Buffer.from([0xff])), ...(options.pathLength !== undefined ? [integer(Buffer.from([options.pathLength]))] : []))
          : seq(),
      ),
    ),
    // keyUsage, critical: CAs sign certificates and CRLs (bits 5, 6); leaves sign (bit 0)
    seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, options.ca ? tlv(0x03, Buffer.from([0x01, 0x06])) : tlv(0x03, Buffer.from([0x07, 0x80])))),
    // subjectKeyIdentifier
    seq(oid('2.5.29.14'), tlv(0x04, tlv(0x04, keyIdentifier(options.subjectKey)))),
    // authorityKeyIdentifier [0] keyIdentifier
    seq(oid('2.5.29.35'), tlv(0x04, seq(tlv(0x80, keyIdentifier(issuerPublicKey))))),
  ];
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithmId,
    name(issuerName),
    seq(time(options.notBefore), time(options.notAfter)),
    name(options.subject),
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign(hash, tbs, signer.privateKey);
  return pem('CERTIFICATE', seq(tbs, algorithmId, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))));
}

function signatureAlgorithm(algorithm: KeyAlgorithm): { algorithmId: Buffer; hash: string } {
  if (algorithm.type === 'rsa') {
    // sha256WithRSAEncryption, with the NULL parameters RFC 4055 requires
    return { algorithmId: seq(oid('1.2.840.113549.1.1.11'), tlv(0x05, Buffer.alloc(0))), hash: 'sha256' };
  }
  return algorithm.curve === 'P-384'
    ? { algorithmId: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384' }
    : { algorithmId: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
}

function name(dn: DistinguishedName): Buffer {
  // Country is a PrintableString (RFC 5280); the rest UTF8String.
  return seq(...dn.map(([attr, value]) => set(seq(oid(NAME_OIDS[attr]), tlv(attr === 'C' ? 0x13 : 0x0c, Buffer.from(value, 'utf8'))))));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }
  let offset = headerLength(spki, 0);
  offset += headerLength(spki, offset) + contentLength(spki, offset);
  const bitStringStart = offset + headerLength(spki, offset);
  const bits = spki.subarray(bitStringStart + 1, bitStringStart + contentLength(spki, offset));
  return createHash('sha1').update(bits).digest();
}

function headerLength(der: Buffer, at: number): number {
  const first = der[at + 1];
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function contentLength(der: Buffer, at: number): number {
  const first = der[at + 1];
  if (first < 0x80) return first;
  let len = 0;
  for (let i = 0; i < (first & 0x7f); i++) len = (len << 8) | der[at + 2 + i];
  return len;
}
