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
  // Parse errors name their line in the message already.
  const named = /\bline \d+/i.test(f.message);
  const where = f.line !== undefined && !named ? `${f.line}:${f.column ?? 1} ` : '';
  return `${where}${f.path ? `${f.path}: ` : ''}${f.message}`;
}

export function hasErrors(findings: readonly MeshConfigFinding[]): boolean {
  return findings.some(f => f.severity === 'error');
}

/** The errors of a list of findings in one line, the first few of them (for error messages and logs). */
export function describeErrors(findings: readonly MeshConfigFinding[], max = 5): string {
  const errors = findings.filter(f => f.severity === 'error');
  const shown = errors.slice(0, max).map(describeFinding).join('; ');
  return errors.length > max ? `${shown}; and ${errors.length - max} more` : shown;
}
