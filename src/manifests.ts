import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from './vocabulary.ts';
import { parseNetworkPolicy } from './rules/network-policy.ts';
import { formatIssues } from './zod-errors.ts';

/** One Kubernetes object read from a manifest, with where it came from. */
export interface Manifest {
  /** The file, or `-` for stdin. */
  readonly file: string;
  /** 1-based position of the YAML document in the file. */
  readonly document: number;
  /** Position in a List's `items`, when the object came from one. */
  readonly item: number | undefined;
  readonly object: KubeObject;
}

/** A file or document that could not be read; the others are still judged. */
export interface ManifestError {
  readonly file: string;
  readonly document: number | undefined;
  readonly item: number | undefined;
  readonly problem: string;
}

export interface ManifestSet {
  readonly manifests: Manifest[];
  readonly errors: ManifestError[];
}

export const STDIN = '-';
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

const objectMetaSchema = z.looseObject({
  name: z.string().min(1).optional(),
  generateName: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
});

const manifestSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: objectMetaSchema,
});

const listSchema = z.looseObject({ kind: z.string().regex(/List$/), items: z.array(z.unknown()) });

/** Where in the input a problem or object sits, for people: `app.yaml: document 2, items[3]`. */
export function describeLocation(location: { file: string; document: number | undefined; item: number | undefined }): string {
  const file = location.file === STDIN ? '<stdin>' : location.file;
  if (location.document === undefined) return file;
  return `${file}: document ${location.document}${location.item === undefined ? '' : `, items[${location.item}]`}`;
}

function validateObject(value: unknown): { object: KubeObject } | { problem: string } {
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) return { problem: formatIssues(parsed.error).join('; ') };
  const object: KubeObject = parsed.data;
  if (parsed.data.metadata.name === undefined && parsed.data.metadata.generateName === undefined) {
    return { problem: 'metadata.name: required (or metadata.generateName)' };
  }
  if (parsed.data.kind === 'NetworkPolicy') {
    const policy = parseNetworkPolicy(object);
    if (!policy.ok) return { problem: `NetworkPolicy ${policy.problems.join('; ')}` };
  }
  return { object };
}

/** One parsed document: an object, a List of objects, or nothing (an empty document between `---`). */
function collect(value: unknown, file: string, document: number, out: ManifestSet): void {
  if (value === null || value === undefined) return;
  const list = listSchema.safeParse(value);
  const entries = list.success ? list.data.items.map((item, index) => ({ item, index })) : [{ item: value, index: undefined }];
  for (const { item, index } of entries) {
    const result = validateObject(item);
    if ('problem' in result) out.errors.push({ file, document, item: index, problem: result.problem });
    else out.manifests.push({ file, document, item: index, object: result.object });
  }
}

function readText(file: string, text: string, out: ManifestSet): void {
  if (extname(file).toLowerCase() === '.json') {
    try {
      collect(JSON.parse(text), file, 1, out);
    } catch (err) {
      out.errors.push({ file, document: 1, item: undefined, problem: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` });
    }
    return;
  }
  parseAllDocuments(text, { prettyErrors: true }).forEach((doc, index) => {
    const [error] = doc.errors;
    if (error !== undefined) {
      out.errors.push({ file, document: index + 1, item: undefined, problem: `not valid YAML: ${error.message.split('\n')[0] ?? ''}` });
      return;
    }
    try {
      collect(doc.toJS({ maxAliasCount: 100 }), file, index + 1, out);
    } catch (err) {
      out.errors.push({ file, document: index + 1, item: undefined, problem: err instanceof Error ? err.message : String(err) });
    }
  });
}

/** Manifest files under a directory, recursively, in a stable order. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => MANIFEST_EXTENSIONS.has(extname(name).toLowerCase()))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/**
 * Reads files, directories (recursively: .yaml, .yml, .json) and `-` (stdin, read by the caller)
 * into objects. Nothing here throws for bad input: each problem becomes an error naming the file
 * and document, and everything else is still returned.
 */
export function readManifests(paths: readonly string[], stdin: () => string): ManifestSet {
  const out: ManifestSet = { manifests: [], errors: [] };
  for (const path of paths) {
    if (path === STDIN) {
      readText(STDIN, stdin(), out);
      continue;
    }
    try {
      const files = statSync(path).isDirectory() ? filesUnder(path) : [path];
      if (files.length === 0) out.errors.push({ file: path, document: undefined, item: undefined, problem: 'no .yaml, .yml or .json files in this directory' });
      for (const file of files) readText(file, readFileSync(file, 'utf8'), out);
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
      out.errors.push({ file: path, document: undefined, item: undefined, problem: `cannot read: ${code}` });
    }
  }
  return out;
}
