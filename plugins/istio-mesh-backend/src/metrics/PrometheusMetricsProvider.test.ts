import { ConfigReader } from '@backstage/config';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AZURE_MONITOR_PROMETHEUS_SCOPE, PrometheusMetricsProvider } from './PrometheusMetricsProvider';

/**
 * The Prometheus provider's transport against a local HTTP server standing in for
 * Prometheus' API (its real answers are covered by metrics.prometheus.test.ts): auth,
 * what it sends, timeouts and how failures are classified.
 */

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let url: string;
let handler: Handler;
const seen: Array<{ path: string; headers: IncomingMessage['headers']; body: URLSearchParams }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', c => (body += c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body: new URLSearchParams(body) });
      handler(req, body, res);
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise(r => server.close(r)));
beforeEach(() => {
  seen.length = 0;
  handler = (_req, _body, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1, 'NaN'] }, { metric: {}, value: [1, '2.5'] }] } }));
  };
});

function provider(prometheus: object, options?: Parameters<typeof PrometheusMetricsProvider.fromConfig>[1], extra: object = {}) {
  return PrometheusMetricsProvider.fromConfig(
    new ConfigReader({ istioMesh: { metrics: { ...extra, clusters: [{ name: 'aks-dev', prometheus: { url, ...prometheus } }] } } }),
    options,
  )!;
}

describe('PrometheusMetricsProvider', () => {
  it('is absent without configured clusters', () => {
    expect(PrometheusMetricsProvider.fromConfig(new ConfigReader({}))).toBeUndefined();
    expect(PrometheusMetricsProvider.fromConfig(new ConfigReader({ istioMesh: { metrics: { clusters: [] } } }))).toBeUndefined();
  });

  it('POSTs the query form-encoded with Prometheus\' timeout, and reads NaN as null', async () => {
    const p = provider({}, undefined, { queryTimeoutSeconds: 7 });
    expect(p.handles('aks-dev')).toBe(true);
    expect(p.handles('aks-prod')).toBe(false);
    expect(p.describe('aks-dev')).toBe(`Prometheus at ${url}`);
    expect(p.clusterMatchers('aks-dev')).toEqual([{ name: 'cluster', op: '=', value: 'aks-dev' }]);
    expect(p.podLabel('aks-dev')).toBe('pod');
    expect(await p.query('aks-dev', 'up', { time: 1700000000 })).toEqual([
      { metric: { a: 'b' }, value: null },
      { metric: {}, value: 2.5 },
    ]);
    expect(seen.map(s => [s.path, s.headers['content-type'], s.body.get('query'), s.body.get('time'), s.body.get('timeout'), s.headers.authorization])).toEqual([
      ['/api/v1/query', 'application/x-www-form-urlencoded', 'up', '1700000000', '7s', undefined],
    ]);
  });

  it('reads range answers as epoch-ms points', async () => {
    handler = (_req, _body, res) => {
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { w: 'x' }, values: [[1700000000, '1'], [1700000010.5, '+Inf']] }] } }));
    };
    const series = await provider({}).queryRange('aks-dev', 'up', { start: 1700000000, end: 1700000010, stepSeconds: 10 });
    expect(series).toEqual([{ metric: { w: 'x' }, values: [{ t: 1700000000000, v: 1 }, { t: 1700000010500, v: null }] }]);
    expect(['start', 'end', 'step'].map(k => seen[0].body.get(k))).toEqual(['1700000000', '1700000010', '10']);
    expect(seen[0].path).toBe('/api/v1/query_range');
  });

  it('sends a bearer token, extra headers, or an Entra ID token for Azure Monitor', async () => {
    await provider({ bearerToken: 'tok', headers: { 'X-Scope-OrgID': 'team-a' } }).query('aks-dev', 'up', { time: 1 });
    const scopes: string[] = [];
    const credential = {
      getToken: async (scope: string | string[]) => {
        scopes.push(String(scope));
        return { token: 'entra-token', expiresOnTimestamp: Date.now() + 3600_000 };
      },
    };
    await provider({ azureMonitor: true, matchers: {} }, { credential }).query('aks-dev', 'up', { time: 1 });
    expect(seen.map(s => [s.headers.authorization, s.headers['x-scope-orgid']])).toEqual([
      ['Bearer tok', 'team-a'],
      ['Bearer entra-token', undefined],
    ]);
    expect(scopes).toEqual([AZURE_MONITOR_PROMETHEUS_SCOPE]);
    expect(provider({ matchers: {} }).clusterMatchers('aks-dev')).toEqual([]);
  });

  it('turns an outage into ServiceUnavailableError naming the cluster and URL, and a rejected query into a plain Error', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'TSDB not ready' }));
    };
    await expect(provider({}).query('aks-dev', 'up', { time: 1 })).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message: `The Prometheus of aks-dev at ${url} answered HTTP 503: TSDB not ready`,
    });
    handler = (_req, _body, res) => {
      res.writeHead(502);
      res.end('<html>bad gateway</html>');
    };
    await expect(provider({}).query('aks-dev', 'up', { time: 1 })).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message: `The Prometheus of aks-dev at ${url} answered HTTP 502 without a Prometheus API body`,
    });
    handler = (_req, _body, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }));
    };
    await expect(provider({}).query('aks-dev', 'up{', { time: 1 })).rejects.toMatchObject({
      name: 'Error',
      message: `The Prometheus of aks-dev at ${url} rejected a query (bad_data): parse error at char 3`,
    });
    handler = (_req, _body, res) => {
      res.writeHead(422, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'execution', error: 'query processing would load too many samples into memory' }));
    };
    await expect(provider({}).query('aks-dev', 'up', { time: 1 })).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message: `The Prometheus of aks-dev at ${url} could not run a query: query processing would load too many samples into memory`,
    });
    const failing = { getToken: async () => { throw new Error('no managed identity'); } };
    await expect(provider({ azureMonitor: true }, { credential: failing }).query('aks-dev', 'up', { time: 1 })).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message: `Could not authenticate to the Prometheus of aks-dev at ${url}: no managed identity`,
    });
  });

  it('gives up on a Prometheus that does not answer, a second after its own timeout', async () => {
    handler = () => undefined; // never answers
    await expect(provider({ timeoutSeconds: 1 }).query('aks-dev', 'up', { time: 1 })).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message: `The Prometheus of aks-dev at ${url} is unreachable: no answer within 2000 ms`,
    });
    expect(seen[0].body.get('timeout')).toBe('1s');
  });

  it('refuses invalid configuration with the cluster named', () => {
    expect(() => provider({ url: 'ftp://x' })).toThrow('istioMesh.metrics.clusters[aks-dev].prometheus.url must be an http(s) URL, got ftp://x');
    expect(() => provider({ matchers: { 'bad-label': 'x' } })).toThrow('istioMesh.metrics.clusters[aks-dev].prometheus: invalid label name "bad-label"');
    expect(() => provider({ podLabel: '0pod' })).toThrow(/invalid label name "0pod"/);
  });
});
