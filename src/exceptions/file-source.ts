import { ConfigError } from '../errors.ts';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../zod-errors.ts';
import { waiverProblems } from './checks.ts';
import type { WaivableRules } from './scope-checks.ts';
import { createRegistry, waiverSet, type ExceptionRegistry, type WaiverSet } from './registry.ts';
import { guardrailExceptionSchema } from '../model/guardrail-exception.ts';
import { toWaiver, type Waiver } from './waiver.ts';
import type { ExceptionSource } from './source.ts';

/**
 * The exceptions file (`--exceptions`): written by the platform and reviewed in Git, so trusted as
 * written (no approver); renewed by a reviewed edit of the file; no API object.
 */
export const FILE_SOURCE: ExceptionSource = {
  name: 'file',
  trusted: true,
  renewal: () => 'Extend its spec.expires in the exceptions file, by a reviewed change.',
  apiObject: undefined,
};

/** An exceptions file that cannot be used; the message names the file, the document and the field. A ConfigError, so the CLI exits 2 with it. */
export class ExceptionFileError extends ConfigError {
  override name = 'ExceptionFileError';
}

const listSchema = z.looseObject({ kind: z.string().regex(/List$/), items: z.array(z.unknown()) });

/** Documents, or the items of a List document. */
function entriesOf(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  const list = listSchema.safeParse(value);
  return list.success ? list.data.items : [value];
}

function parseEntry(value: unknown, where: string, guardrails: WaivableRules): Waiver {
  const parsed = guardrailExceptionSchema.safeParse(value);
  if (!parsed.success)
    throw new ExceptionFileError(
      formatIssues(parsed.error)
        .map((line) => `${where}: ${line}`)
        .join('\n'),
    );
  // A waiver that parses but fails EX002/EX003 is kept, listed as rejected with the reason, and waives nothing.
  return toWaiver(
    parsed.data,
    FILE_SOURCE,
    waiverProblems(parsed.data, parsed.data.metadata.namespace, guardrails),
  );
}

/**
 * Parses a GuardrailException file (multi-document YAML, Lists allowed; empty is fine). Any broken
 * entry rejects the whole file: the watcher then keeps the last good set rather than a partial one.
 * `guardrails`: the rules a waiver may name (EX003), handed in.
 */
export function parseExceptionFile(
  text: string,
  source: string,
  guardrails: WaivableRules,
): WaiverSet {
  const waivers: Waiver[] = [];
  const seen = new Set<string>();
  parseAllDocuments(text, { prettyErrors: true }).forEach((doc, index) => {
    const where = `${source}: document ${index + 1}`;
    const [error] = doc.errors;
    if (error !== undefined)
      throw new ExceptionFileError(
        `${where}: not valid YAML: ${error.message.split('\n')[0] ?? ''}`,
      );
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    const isList = listSchema.safeParse(value).success;
    entriesOf(value).forEach((entry, item) => {
      const waiver = parseEntry(entry, isList ? `${where}, items[${item}]` : where, guardrails);
      const key = `${waiver.namespace}/${waiver.name}`;
      if (seen.has(key))
        throw new ExceptionFileError(`${where}: duplicate GuardrailException ${key}`);
      seen.add(key);
      waivers.push(waiver);
    });
  });
  return waiverSet(waivers);
}

/** At start-up: a missing file means no file waivers (the default path is optional); a broken one is an error. */
export function loadExceptionFile(path: string, guardrails: WaivableRules): WaiverSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    if (code === 'ENOENT') return waiverSet([]);
    throw new ExceptionFileError(`${path}: cannot read: ${code}`);
  }
  return parseExceptionFile(text, path, guardrails);
}

/** A registry over the file as it is now, for one-shot commands (`check`, `audit`, `exception list`). */
export function loadFileRegistry(path: string, guardrails: WaivableRules): ExceptionRegistry {
  const set = loadExceptionFile(path, guardrails);
  return createRegistry([() => set]);
}
