/** Reads fields of untrusted objects without trusting their shape. */
import type { KubeObject } from './vocabulary.ts';

export function asRecord(value: unknown): KubeObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as KubeObject)
    : undefined;
}

/** Walks own properties only, so `__proto__` or `constructor` keys in input never reach Object.prototype. */
export function field(value: unknown, ...keys: readonly string[]): unknown {
  let current: unknown = value;
  for (const key of keys) {
    const record = asRecord(current);
    if (record === undefined || !Object.hasOwn(record, key)) return undefined;
    current = record[key];
  }
  return current;
}

export function stringField(value: unknown, ...keys: readonly string[]): string {
  const found = field(value, ...keys);
  return typeof found === 'string' ? found : '';
}

export function arrayField(value: unknown, ...keys: readonly string[]): readonly unknown[] {
  const found = field(value, ...keys);
  return Array.isArray(found) ? found : [];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `metadata.labels.tier`, but `metadata.annotations["netguard.dev/allow-dns"]` for keys that need quoting. */
export function keyPath(prefix: string, key: string): string {
  return IDENTIFIER.test(key) ? `${prefix}.${key}` : `${prefix}[${JSON.stringify(key)}]`;
}
