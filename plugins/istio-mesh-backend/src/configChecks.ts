/**
 * Start-up checks of numeric settings: a zero or negative timeout, interval or lease
 * would not fail loudly later but quietly misbehave (every query "timed out", a lease
 * that is always expired), so the backend refuses to start and names the key.
 */
export function requirePositive(key: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`Invalid configuration: ${key} must be a positive number, got ${value}`);
  }
  return value;
}

export function requireNonNegative(key: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`Invalid configuration: ${key} must be zero or a positive number, got ${value}`);
  }
  return value;
}
