/** One problem with a MeshConfig document. */
export interface MeshConfigFinding {
  /** `error`: the add-on would reject it, or it is not MeshConfig; `warning`: accepted, but worth a look. */
  severity: 'error' | 'warning';
  /** The field, e.g. `defaultConfig.concurrency`; empty for the document as a whole. */
  path: string;
  message: string;
  /** 1-based, where the field's key (or the syntax error) is. */
  line?: number;
  column?: number;
}

export interface SourcePosition {
  line: number;
  column: number;
}

/** `3:5 defaultConfig.concurrency: …` — how findings read in logs and error messages. */
export function describeFinding(f: MeshConfigFinding): string {
  const where = f.line !== undefined ? `${f.line}:${f.column ?? 1} ` : '';
  return `${where}${f.path ? `${f.path}: ` : ''}${f.message}`;
}

export function hasErrors(findings: readonly MeshConfigFinding[]): boolean {
  return findings.some(f => f.severity === 'error');
}
