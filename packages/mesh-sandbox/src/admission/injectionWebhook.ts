import https from 'node:https';
import { AddressInfo } from 'node:net';
import { injectedPod, injectionSkipReason, sidecarProfile, SidecarProfile } from '../istio/injection';
import { createSelfSignedCert } from '../tls/selfSignedCert';
import { JsonPatchOperation, jsonPatchDiff } from './jsonPatchDiff';

/**
 * istiod's sidecar injector as a real mutating admission webhook: an HTTPS server on
 * loopback that answers kube-apiserver's `AdmissionReview` (admission.k8s.io/v1) for pod
 * CREATE at `/inject/<revision>` with a JSONPatch. The patch is the difference between
 * the pod kube-apiserver sent and the pod the sandbox's injection rules return for the
 * revision ({@link injectedPod}), so the sandbox and a real cluster inject alike.
 * Register it with {@link injectorWebhookConfiguration} (`../istio/install`) and a
 * `clientConfig` of `{ url: webhook.urlFor(rev), caBundle: webhook.caBundle }`.
 */

/** The parts of an `AdmissionReview` request the injector reads. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  name?: string;
  dryRun?: boolean;
  object?: any;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch. */
  patch?: string;
  status?: { code: number; message: string };
}

/** What the webhook was asked and what it answered (for tests and logs). */
export interface AdmissionRecord {
  revision: string;
  uid: string;
  operation?: string;
  kind?: string;
  namespace?: string;
  /** The pod's name, or its generateName (pods of a ReplicaSet have no name yet). */
  name?: string;
  dryRun: boolean;
  /** Operations in the JSONPatch sent back (0: the pod is admitted unchanged). */
  patchOperations: number;
  /** Why the pod was left as it was, when it was. */
  skipped?: string;
}

/**
 * Answers one admission request for `revision`: pods being created get the revision's
 * sidecar, everything else (other kinds, other operations, pods istiod skips) is allowed
 * unchanged.
 */
export function reviewPodAdmission(
  request: AdmissionRequest,
  profile: SidecarProfile,
): { response: AdmissionResponse; patch: JsonPatchOperation[]; skipped?: string } {
  const allow = (skipped: string) => ({ response: { uid: request.uid, allowed: true }, patch: [], skipped });
  if ((request.kind?.group ?? '') !== '' || request.kind?.kind !== 'Pod') return allow(`not a pod (${request.kind?.kind})`);
  if (request.operation !== 'CREATE') return allow(`operation ${request.operation}`);
  const pod = request.object;
  const reason = injectionSkipReason(pod);
  if (reason) return allow(reason);
  const patch = jsonPatchDiff(pod, injectedPod(pod, profile));
  if (patch.length === 0) return allow('nothing to inject');
  return {
    response: {
      uid: request.uid,
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    },
    patch,
  };
}

export interface InjectionWebhookOptions {
  /** Default 127.0.0.1: kube-apiserver of the test control plane runs on the same host. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Where the revisions' istiods run (their CA_ADDR); default `aks-istio-system`. */
  controlPlaneNamespace?: string;
  /** The injector of a revision; default {@link sidecarProfile}. */
  profileOf?: (revision: string) => SidecarProfile;
}

export interface InjectionWebhook {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The webhook's self-signed certificate (its own CA), PEM. */
  caPem: string;
  /** The same, base64, for `clientConfig.caBundle`. */
  caBundle: string;
  /** The injection endpoint of a revision: `https://127.0.0.1:<port>/inject/<revision>`. */
  urlFor(revision: string): string;
  /** Every admission request answered, oldest first. */
  readonly records: AdmissionRecord[];
  close(): Promise<void>;
}

const REVISION = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Starts the injector on an HTTPS port of its own, with a certificate made in-process. */
export async function startInjectionWebhook(options: InjectionWebhookOptions = {}): Promise<InjectionWebhook> {
  const host = options.host ?? '127.0.0.1';
  const controlPlaneNamespace = options.controlPlaneNamespace ?? 'aks-istio-system';
  const profileOf = options.profileOf ?? ((revision: string) => sidecarProfile(revision, controlPlaneNamespace));
  const cert = createSelfSignedCert({ commonName: 'mesh-sandbox-injection-webhook', hosts: [host, 'localhost'], validDays: 7 });
  const records: AdmissionRecord[] = [];

  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const send = (status: number, body: unknown) => {
      const payload = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
      res.end(payload);
    };
    const url = new URL(req.url ?? '/', 'https://webhook');
    if (req.method === 'GET' && url.pathname === '/healthz') {
      send(200, { status: 'ok' });
      return;
    }
    const m = /^\/inject\/([^/]+)$/.exec(url.pathname);
    if (!m || !REVISION.test(m[1])) {
      send(404, { message: `no injector at ${url.pathname}; POST to /inject/<revision>` });
      return;
    }
    if (req.method !== 'POST') {
      send(405, { message: 'POST an AdmissionReview' });
      return;
    }
    const revision = m[1];
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      let review: any;
      try {
        if (size > MAX_BODY_BYTES) throw new Error('request body too large');
        review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (review?.kind !== 'AdmissionReview' || typeof review.request?.uid !== 'string') {
          throw new Error('expected an AdmissionReview with a request');
        }
      } catch (e) {
        send(400, { message: `bad AdmissionReview: ${(e as Error).message}` });
        return;
      }
      const request: AdmissionRequest = review.request;
      const { response, patch, skipped } = reviewPodAdmission(request, profileOf(revision));
      const pod = request.object?.metadata;
      records.push({
        revision,
        uid: request.uid,
        operation: request.operation,
        kind: request.kind?.kind,
        namespace: request.namespace,
        name: request.name || pod?.name || pod?.generateName,
        dryRun: request.dryRun === true,
        patchOperations: patch.length,
        ...(skipped ? { skipped } : {}),
      });
      // The response's apiVersion must be the request's (admission.k8s.io/v1).
      send(200, { apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${host}:${port}`;
  return {
    url,
    port,
    caPem: cert.certPem,
    caBundle: Buffer.from(cert.certPem).toString('base64'),
    urlFor: revision => `${url}/inject/${revision}`,
    records,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
