import { hasErrors, MeshConfigFinding } from './findings';
import { MESH_CONFIG_LIMITS, MeshConfigLimits, parseMeshConfigYaml } from './parse';
import { MeshConfigPolicy } from './policy';
import { validateMeshConfig } from './validate';

const rank = (f: { severity: string }) => (f.severity === 'error' ? 0 : 1);

export interface CheckedMeshConfig {
  /** The parsed document, when it parsed (it may still have validation errors). */
  value?: Record<string, unknown>;
  /** Parse errors, or else the policy and value findings, errors first, then by line. */
  findings: MeshConfigFinding[];
  /** No errors (warnings are fine): the add-on would accept it. */
  valid: boolean;
}

/** Parse and validate a shared MeshConfig document, as the editor and the save path do. */
export function checkMeshConfigDocument(
  yaml: string,
  policy: MeshConfigPolicy,
  limits: MeshConfigLimits = MESH_CONFIG_LIMITS,
): CheckedMeshConfig {
  const parsed = parseMeshConfigYaml(yaml, limits);
  if (!parsed.value) return { findings: parsed.errors, valid: false };
  const findings = validateMeshConfig(parsed.value, policy, { positions: parsed.positions }).sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
  return { value: parsed.value, findings, valid: !hasErrors(findings) };
}
