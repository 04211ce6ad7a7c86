import { ConfigReader } from '@backstage/config';
import { readMetricsSettings } from './metrics/MetricsService';
import { PrometheusMetricsProvider } from './metrics/PrometheusMetricsProvider';
import { readHealthGateSettings } from './upgrade/healthGate';
import { readUpgradeSettings } from './upgrade/UpgradeService';

const config = (istioMesh: object) => new ConfigReader({ istioMesh });

describe('numeric settings are checked at start-up', () => {
  it('refuses zero or negative upgrade intervals, leases and timeouts, naming the key', () => {
    expect(() => readUpgradeSettings(config({ upgrades: { pollIntervalMs: 0 } }))).toThrow(
      'Invalid configuration: istioMesh.upgrades.pollIntervalMs must be a positive number, got 0',
    );
    expect(() => readUpgradeSettings(config({ upgrades: { leaseSeconds: -5 } }))).toThrow(
      'istioMesh.upgrades.leaseSeconds must be a positive number, got -5000',
    );
    expect(() => readUpgradeSettings(config({ upgrades: { retries: { attemptTimeoutSeconds: 0 } } }))).toThrow(
      'istioMesh.upgrades.retries.attemptTimeoutSeconds must be a positive number',
    );
    expect(() => readUpgradeSettings(config({ upgrades: { lockWaitMs: -1 } }))).toThrow(
      'istioMesh.upgrades.lockWaitMs must be zero or a positive number, got -1',
    );
  });

  it('accepts the defaults and zero where zero means "none"', () => {
    expect(readUpgradeSettings(config({})).pollIntervalMs).toBe(2000);
    expect(readUpgradeSettings(config({ upgrades: { lockWaitMs: 0, retries: { baseDelayMs: 0 } } })).lockWaitMs).toBe(0);
    expect(readMetricsSettings(config({ metrics: { overviewCacheSeconds: 0 } })).overviewCacheSeconds).toBe(0);
    expect(readHealthGateSettings(config({ upgrades: { healthGate: { graceSeconds: 0 } } })).graceSeconds).toBe(0);
  });

  it('refuses a metrics overview timeout of zero and negative gate settings', () => {
    expect(() => readMetricsSettings(config({ metrics: { overviewTimeoutSeconds: 0 } }))).toThrow(
      'istioMesh.metrics.overviewTimeoutSeconds must be a positive number, got 0',
    );
    expect(() => readHealthGateSettings(config({ upgrades: { healthGate: { graceSeconds: -1 } } }))).toThrow(
      'istioMesh.upgrades.healthGate.graceSeconds must be zero or a positive number, got -1',
    );
    expect(() =>
      readHealthGateSettings(config({ upgrades: { healthGate: { thresholds: { maxErrorRatioIncrease: -0.1 } } } })),
    ).toThrow('istioMesh.upgrades.healthGate.thresholds.maxErrorRatioIncrease must be zero or a positive number');
  });

  it('refuses a Prometheus query timeout of zero', () => {
    const clusters = [{ name: 'aks-dev', prometheus: { url: 'http://127.0.0.1:9090', timeoutSeconds: 0 } }];
    expect(() => PrometheusMetricsProvider.fromConfig(config({ metrics: { clusters } }))).toThrow(
      'istioMesh.metrics.clusters[aks-dev].prometheus.timeoutSeconds must be a positive number, got 0',
    );
    expect(() =>
      PrometheusMetricsProvider.fromConfig(config({ metrics: { queryTimeoutSeconds: -1, clusters: [{ name: 'a', prometheus: { url: 'http://x' } }] } })),
    ).toThrow('istioMesh.metrics.queryTimeoutSeconds must be a positive number, got -1');
  });
});
