import { ControlPlaneProvider } from '@mesh-portal/plugin-istio-mesh-node';
import { RunRecord } from '../upgrade/UpgradeStore';

/** An aks-dev canary run asm-1-29 → asm-1-30 as the store keeps it; each call a new id unless given. */
export const runRecord = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  id: `run-${Math.random().toString(36).slice(2)}`,
  cluster: 'aks-dev',
  provider: 'aks',
  from: 'asm-1-29',
  to: 'asm-1-30',
  status: 'active',
  startedBy: 'user:default/alice',
  startedAt: new Date('2026-12-01T10:00:00.000Z'),
  ...overrides,
});

/** A control-plane provider whose revision change never finishes: the step stays running. */
export const neverFinishingAksProvider = () =>
  ({
    id: 'aks',
    handles: () => true,
    setRevisions: async () => ({ id: 'op-1' }),
    getRevisionChangeStatus: async () => ({ state: 'running' }),
  }) as unknown as ControlPlaneProvider;
