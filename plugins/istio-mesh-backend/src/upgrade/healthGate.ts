import { Config } from '@backstage/config';
import {
  DEFAULT_HEALTH_GATE_THRESHOLDS,
  HealthGateResult,
  HealthGateThresholds,
  HealthGateWorkload,
  NO_SIGNALS,
  combineVerdicts,
  compareHealth,
} from '@mesh-portal/plugin-istio-mesh-common';
import { MetricsService } from '../metrics/MetricsService';
import type { StepDetails } from './UpgradeStore';
import { requireNonNegative } from '../configChecks';

export interface HealthGateSettings {
  enabled: boolean;
  /** Length of the window before the restart and of the window after the rollout. */
  windowSeconds: number;
  /** How long after the after-window Prometheus may stay unreachable before the verdict is no-data. */
  graceSeconds: number;
  thresholds: HealthGateThresholds;
}

export const DEFAULT_HEALTH_GATE_SETTINGS: HealthGateSettings = {
  enabled: true,
  windowSeconds: 300,
  graceSeconds: 300,
  thresholds: DEFAULT_HEALTH_GATE_THRESHOLDS,
};

export function readHealthGateSettings(config: Config): HealthGateSettings {
  const c = config.getOptionalConfig('istioMesh.upgrades.healthGate');
  const t = c?.getOptionalConfig('thresholds');
  const settings: HealthGateSettings = {
    enabled: c?.getOptionalBoolean('enabled') ?? DEFAULT_HEALTH_GATE_SETTINGS.enabled,
    windowSeconds: c?.getOptionalNumber('windowSeconds') ?? DEFAULT_HEALTH_GATE_SETTINGS.windowSeconds,
    graceSeconds: c?.getOptionalNumber('graceSeconds') ?? DEFAULT_HEALTH_GATE_SETTINGS.graceSeconds,
    thresholds: {
      maxErrorRatioIncrease: t?.getOptionalNumber('maxErrorRatioIncrease') ?? DEFAULT_HEALTH_GATE_THRESHOLDS.maxErrorRatioIncrease,
      failingErrorRatio: t?.getOptionalNumber('failingErrorRatio') ?? DEFAULT_HEALTH_GATE_THRESHOLDS.failingErrorRatio,
      maxP99IncreaseRatio: t?.getOptionalNumber('maxP99IncreaseRatio') ?? DEFAULT_HEALTH_GATE_THRESHOLDS.maxP99IncreaseRatio,
      minP99IncreaseMs: t?.getOptionalNumber('minP99IncreaseMs') ?? DEFAULT_HEALTH_GATE_THRESHOLDS.minP99IncreaseMs,
    },
  };
  if (!Number.isInteger(settings.windowSeconds) || settings.windowSeconds <= 0) {
    throw new Error('istioMesh.upgrades.healthGate.windowSeconds must be a positive whole number');
  }
  requireNonNegative('istioMesh.upgrades.healthGate.graceSeconds', settings.graceSeconds);
  for (const [name, value] of Object.entries(settings.thresholds)) {
    requireNonNegative(`istioMesh.upgrades.healthGate.thresholds.${name}`, value);
  }
  return settings;
}

export type GateTick = { done: true; summary: string } | { done: false; message: string };

/**
 * The health gate of a namespace migration: once the namespace runs the new revision,
 * the migrate step waits (in its ordinary resumable passes, the state in the step's
 * details in the database) until a window of `windowSeconds` after the rollout has
 * passed, then compares each workload's golden signals over it with the same window
 * before the restart, and records the verdict on the step.
 */
export class HealthGate {
  constructor(
    private readonly metrics: MetricsService,
    private readonly settings: HealthGateSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether migrations on this cluster are gated (metrics configured for it). */
  applies(cluster: string): boolean {
    return this.settings.enabled && !!this.metrics.providerFor(cluster);
  }

  /** Extra time a gated migrate step may take: the after-window and the grace. */
  extraTimeMs(cluster: string): number {
    return this.applies(cluster) ? (this.settings.windowSeconds + this.settings.graceSeconds + 60) * 1000 : 0;
  }

  /** One pass, after the namespace is fully on the new revision. Saves what it decided. */
  async tick(ctx: { cluster: string; namespace: string; details: StepDetails; save(): Promise<void> }): Promise<GateTick> {
    const { details } = ctx;
    const w = this.settings.windowSeconds * 1000;
    const now = this.now();
    if (!details.healthGate) {
      const restart = Date.parse(details.restartStamp ?? new Date(now).toISOString());
      details.healthGate = {
        verdict: 'pending',
        before: { start: iso(restart - w), end: iso(restart) },
        after: { start: iso(now), end: iso(now + w) },
        workloads: [],
        reasons: [`Comparing golden signals ${this.settings.windowSeconds} s before the restart with ${this.settings.windowSeconds} s after the rollout, until ${iso(now + w)}.`],
      };
      await ctx.save();
    }
    const gate = details.healthGate;
    if (gate.verdict !== 'pending') return { done: true, summary: summary(gate) };
    const afterEnd = Date.parse(gate.after.end);
    if (now < afterEnd) {
      return { done: false, message: `Health gate: measuring ${ctx.namespace} after the restart until ${gate.after.end}.` };
    }
    const seconds = this.settings.windowSeconds;
    try {
      const [before, after] = await Promise.all([
        this.metrics.namespaceSignals(ctx.cluster, ctx.namespace, Math.floor(Date.parse(gate.before.end) / 1000), seconds),
        this.metrics.namespaceSignals(ctx.cluster, ctx.namespace, Math.floor(afterEnd / 1000), seconds),
      ]);
      const names = [...new Set([...before.keys(), ...after.keys()])].sort();
      const workloads: HealthGateWorkload[] = names.map(workload => {
        const b = before.get(workload) ?? NO_SIGNALS;
        const a = after.get(workload) ?? NO_SIGNALS;
        return { workload, before: b, after: a, ...compareHealth(b, a, this.settings.thresholds) };
      });
      const verdict = combineVerdicts(workloads.map(x => x.verdict));
      gate.workloads = workloads;
      gate.verdict = verdict;
      if (verdict === 'regressed') {
        gate.reasons = workloads.filter(x => x.verdict === 'regressed').flatMap(x => x.reasons.map(r => `${x.workload}: ${r}`));
      } else if (verdict === 'no-data') {
        gate.reasons = [workloads.length ? 'No workload had requests in both windows.' : `No requests to ${ctx.namespace} were recorded in either window.`];
      } else {
        gate.reasons = [];
      }
      gate.evaluatedAt = iso(now);
    } catch (error) {
      const message = (error as Error).message;
      if (now < afterEnd + this.settings.graceSeconds * 1000) {
        details.lastError = message;
        return { done: false, message: `Health gate: metrics unavailable (${message}); retrying.` };
      }
      gate.verdict = 'no-data';
      gate.reasons = [`Metrics stayed unavailable: ${message}`];
      gate.evaluatedAt = iso(now);
    }
    await ctx.save();
    return { done: true, summary: summary(gate) };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function summary(gate: HealthGateResult): string {
  switch (gate.verdict) {
    case 'healthy':
      return 'Health gate: healthy (error ratio and p99 latency held after the restart).';
    case 'regressed':
      return `Health gate: regressed. ${gate.reasons.join(' ')}`;
    default:
      return `Health gate: no data. ${gate.reasons.join(' ')}`;
  }
}

/**
 * Migrated namespaces whose last migrate step's gate regressed: completing the upgrade
 * needs an explicit acknowledgement while there are any. A gate still measuring does not
 * hold complete up (it would block every upgrade for a window after each migration).
 */
export function unacknowledgedGates(
  steps: Array<{ id: number; action: string; namespace?: string; outcome: string; details: StepDetails }>,
  migratedNamespaces: string[],
): Array<{ namespace: string; stepId: number; verdict: 'regressed' }> {
  const out: Array<{ namespace: string; stepId: number; verdict: 'regressed' }> = [];
  for (const namespace of migratedNamespaces) {
    const last = [...steps].reverse().find(s => s.action === 'migrate' && s.namespace === namespace && s.outcome !== 'cancelled');
    if (last?.details.healthGate?.verdict === 'regressed') out.push({ namespace, stepId: last.id, verdict: 'regressed' });
  }
  return out;
}

/**
 * Ends a gate still measuring when its step ends without it (the upgrade was completed
 * meanwhile, or a rollback cancelled the step): no data, with the reason, so that the
 * record never says it is measuring a finished upgrade. Changes `details` in place.
 */
export function endPendingGate(details: StepDetails, why: string, now: Date = new Date()): StepDetails {
  if (details.healthGate?.verdict === 'pending') {
    details.healthGate = { ...details.healthGate, verdict: 'no-data', reasons: [why], evaluatedAt: iso(now.getTime()) };
  }
  return details;
}

/** A migrate step that has moved its namespace and only measures its health now. */
export function gateMeasuring(step: { action: string; outcome: string; details: StepDetails }): boolean {
  return step.action === 'migrate' && step.outcome === 'running' && step.details.healthGate?.verdict === 'pending';
}

/** The gate verdict of a namespace's last migrate step, for the run view. */
export function namespaceGate(steps: Array<{ action: string; namespace?: string; details: StepDetails }>, namespace: string): HealthGateResult['verdict'] | undefined {
  const last = [...steps].reverse().find(s => s.action === 'migrate' && s.namespace === namespace);
  return last?.details.healthGate?.verdict;
}
