/**
 * Calico selector expressions (`app == 'api' && has(tier)`) as label requirements. Only a chain of
 * simple terms joined by `&&` is read; anything else (`||`, `!( )`, a term netguard does not
 * know) is judged as selecting everything, which can only widen what a policy is judged to open.
 */
import type { Requirement } from './read.ts';

export interface CalicoSelection {
  /** `all()`, an empty selector, or one netguard cannot read: every object. */
  readonly everything: boolean;
  readonly requirements: readonly Requirement[];
  /** `global()`: matches global (non-namespaced) objects only. */
  readonly global: boolean;
}

const EVERYTHING: CalicoSelection = { everything: true, requirements: [], global: false };
const VALUE = `(?:'([^']*)'|"([^"]*)")`;
const KEY = '([A-Za-z0-9_./-]+)';
const TERMS: readonly [RegExp, (m: RegExpExecArray) => Requirement][] = [
  [
    new RegExp(`^${KEY}\\s*==\\s*${VALUE}$`),
    (m) => ({ key: m[1] ?? '', operator: 'In', values: [m[2] ?? m[3] ?? ''] }),
  ],
  [
    new RegExp(`^${KEY}\\s*!=\\s*${VALUE}$`),
    (m) => ({ key: m[1] ?? '', operator: 'NotIn', values: [m[2] ?? m[3] ?? ''] }),
  ],
  [
    /^has\(\s*([A-Za-z0-9_./-]+)\s*\)$/,
    (m) => ({ key: m[1] ?? '', operator: 'Exists', values: [] }),
  ],
  [
    /^!\s*has\(\s*([A-Za-z0-9_./-]+)\s*\)$/,
    (m) => ({ key: m[1] ?? '', operator: 'DoesNotExist', values: [] }),
  ],
  [
    new RegExp(`^${KEY}\\s+(not\\s+)?in\\s*\\{([^}]*)\\}$`),
    (m) => ({
      key: m[1] ?? '',
      operator: m[2] === undefined ? 'In' : 'NotIn',
      values: [...(m[3] ?? '').matchAll(/'([^']*)'|"([^"]*)"/g)].map((v) => v[1] ?? v[2] ?? ''),
    }),
  ],
];

export function parseCalicoSelector(written: unknown): CalicoSelection {
  if (typeof written !== 'string' || written.length > 4096) return EVERYTHING;
  const text = written.trim();
  if (text === '' || text === 'all()') return EVERYTHING;
  if (text.includes('||')) return EVERYTHING;
  const requirements: Requirement[] = [];
  let global = false;
  for (const raw of text.split('&&')) {
    const term = raw.trim();
    if (term === 'all()') continue;
    if (term === 'global()') {
      global = true;
      continue;
    }
    const match = TERMS.map(([pattern, read]) => {
      const found = pattern.exec(term);
      return found === null ? undefined : read(found);
    }).find((requirement) => requirement !== undefined);
    if (match === undefined) return EVERYTHING;
    requirements.push(match);
  }
  return { everything: requirements.length === 0, requirements, global };
}

/** Whether labels satisfy a selection (for NetworkSets, which carry their labels). */
export function calicoSelects(
  selection: CalicoSelection,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selection.everything) return true;
  return selection.requirements.every((r) => {
    const value = Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
    if (r.operator === 'Exists') return value !== undefined;
    if (r.operator === 'DoesNotExist') return value === undefined;
    if (r.operator === 'In') return value !== undefined && r.values.includes(value);
    return value === undefined || !r.values.includes(value);
  });
}
