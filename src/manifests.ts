import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, matchesGlob } from 'node:path';
import { parseAllDocuments, parseDocument, isMap, isSeq, type Document, type Node } from 'yaml';
import { lineOnly, LineCounter, sourceMapOf, type SourceMap } from './source-position.ts';
import {
  isKustomizationFile,
  kustomizationIn,
  listedResources,
  renderKustomization,
} from './kustomize.ts';
import { z } from 'zod';
import type { KubeObject } from './vocabulary.ts';
import { parseNetworkPolicy } from './model/network-policy.ts';
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
  /** Lines of the object and its fields in `file`, for CI annotations. */
  readonly source: SourceMap;
}

/** A file or document that could not be read; the others are still judged. */
export interface ManifestError {
  readonly file: string;
  readonly document: number | undefined;
  readonly item: number | undefined;
  /** 1-based line of the document or item, when known. */
  readonly line?: number;
  readonly problem: string;
}

/** An input that is not a Kubernetes manifest, passed over in a directory walk and counted. */
export interface SkippedInput {
  readonly file: string;
  readonly document: number | undefined;
  readonly reason: string;
}

export interface ManifestSet {
  readonly manifests: Manifest[];
  readonly errors: ManifestError[];
  /** How inputs were read where that is not obvious (a kustomization rendered). */
  readonly notes: string[];
  /** Files and documents found in directories that are not manifests (never ones named with -f). */
  readonly skipped: SkippedInput[];
}

const emptySet = (): ManifestSet => ({ manifests: [], errors: [], notes: [], skipped: [] });

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
export function describeLocation(location: {
  file: string;
  document: number | undefined;
  item: number | undefined;
}): string {
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

/** The node of a List's item `index`, or the document's root. */
function nodeOf(doc: Document | undefined, index: number | undefined): Node | undefined {
  const root = doc?.contents ?? undefined;
  if (root === null || root === undefined || index === undefined) return root ?? undefined;
  const items = isMap(root) ? root.get('items', true) : undefined;
  return isSeq(items) ? ((items.items[index] as Node | undefined) ?? root) : root;
}

interface Parsed {
  readonly file: string;
  readonly document: number;
  /** The YAML syntax tree, for positions; absent when the text came without one. */
  readonly doc: Document | undefined;
  readonly lines: LineCounter;
  /** Found in a directory walk, not named with -f: documents that are not Kubernetes are skipped. */
  readonly walked: boolean;
}

const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;

/**
 * Why a document is not a manifest at all, or undefined when it claims to be one. Only a document
 * with none of apiVersion, kind and metadata is "not Kubernetes": one with some of them is a
 * manifest with a slip (a template that lost a line) and stays an input error.
 */
function notAManifest(value: unknown): string | undefined {
  const apiVersion = field(value, 'apiVersion');
  if (typeof apiVersion === 'string' && apiVersion.startsWith('admission.k8s.io/'))
    return field(value, 'kind') === 'AdmissionReview'
      ? 'this is an AdmissionReview; check reads manifests (netguard serve answers AdmissionReviews)'
      : undefined;
  const claims = ['apiVersion', 'kind', 'metadata'].some((key) => field(value, key) !== undefined);
  return claims ? undefined : 'no apiVersion or kind: not a Kubernetes object';
}

/** One parsed document: an object, a List of objects, or nothing (an empty document between `---`). */
function collect(value: unknown, at: Parsed, out: ManifestSet): void {
  if (value === null || value === undefined) return;
  const { file, document } = at;
  const foreign = notAManifest(value);
  if (foreign !== undefined) {
    const line = sourceMapOf(nodeOf(at.doc, undefined), at.lines).line;
    if (at.walked) out.skipped.push({ file, document, reason: foreign });
    else out.errors.push({ file, document, item: undefined, line, problem: foreign });
    return;
  }
  const list = listSchema.safeParse(value);
  const entries = list.success
    ? list.data.items.map((item, index) => ({ item, index }))
    : [{ item: value, index: undefined }];
  for (const { item, index } of entries) {
    const source = sourceMapOf(nodeOf(at.doc, index), at.lines);
    const result = validateObject(item);
    if ('problem' in result)
      out.errors.push({ file, document, item: index, line: source.line, problem: result.problem });
    else out.manifests.push({ file, document, item: index, object: result.object, source });
  }
}

function readText(file: string, text: string, out: ManifestSet, walked = false): void {
  if (extname(file).toLowerCase() === '.json') {
    try {
      const value: unknown = JSON.parse(text);
      // JSON.parse decides the values; YAML (a superset) only supplies the positions.
      const lines = new LineCounter();
      const doc = parseDocument(text, { lineCounter: lines });
      collect(
        value,
        { file, document: 1, doc: doc.errors.length === 0 ? doc : undefined, lines, walked },
        out,
      );
    } catch (err) {
      out.errors.push({
        file,
        document: 1,
        item: undefined,
        problem: `not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    return;
  }
  const lines = new LineCounter();
  parseAllDocuments(text, { prettyErrors: true, lineCounter: lines }).forEach((doc, index) => {
    const [error] = doc.errors;
    if (error !== undefined) {
      const line = error.linePos?.[0].line;
      const problem = `not valid YAML: ${error.message.split('\n')[0] ?? ''}`;
      out.errors.push({
        file,
        document: index + 1,
        item: undefined,
        ...(line === undefined ? {} : { line }),
        problem,
      });
      return;
    }
    try {
      collect(
        doc.toJS({ maxAliasCount: 100 }),
        { file, document: index + 1, doc, lines, walked },
        out,
      );
    } catch (err) {
      out.errors.push({
        file,
        document: index + 1,
        item: undefined,
        problem: err instanceof Error ? err.message : String(err),
      });
    }
  });
}

export interface ReadOptions {
  /** The kubectl used to render kustomizations (without it a kustomization is an input error). */
  readonly kubectl?: string;
  /** Globs of paths not to read in directory walks (a glob without "/" also matches a base name). */
  readonly exclude?: readonly string[];
}

const identityOf = (object: KubeObject): string => {
  const metadata = object['metadata'] as { name?: unknown } | undefined;
  return `${String(object['kind'])}/${String(metadata?.name ?? '')}`;
};

/** A rendered object points at the file it came from (same kind, name kept or prefixed), else the kustomization. */
function placeRendered(
  rendered: Manifest,
  sources: readonly Manifest[],
  fallback: string,
): Manifest {
  const [kind, name] = identityOf(rendered.object).split('/');
  const origin =
    sources.find((source) => identityOf(source.object) === `${kind}/${name}`) ??
    sources.find((source) => {
      const [k, n] = identityOf(source.object).split('/');
      return k === kind && n !== undefined && n !== '' && name?.includes(n);
    });
  if (origin === undefined)
    return { ...rendered, file: fallback, document: 1, item: undefined, source: lineOnly(1) };
  return {
    ...rendered,
    file: origin.file,
    document: origin.document,
    item: origin.item,
    source: origin.source,
  };
}

/**
 * A kustomization directory, rendered by `kubectl kustomize`. Without kubectl it is an input error:
 * judged as written, its `namespace:`, patches and prefixes would be lost and the verdict too lenient.
 */
function readKustomization(
  dir: string,
  file: string,
  out: ManifestSet,
  options: ReadOptions,
): void {
  const rendering = renderKustomization(dir, options.kubectl);
  if (rendering.how === 'unavailable') {
    out.errors.push({
      file,
      document: undefined,
      item: undefined,
      problem:
        `a kustomization, and kubectl is not on PATH to render it (judged as written, its namespace, patches and prefixes would be lost). ` +
        `Render it and judge the result: kubectl kustomize ${dir} | netguard check -f -`,
    });
    return;
  }
  if (rendering.how === 'failed') {
    out.errors.push({ file, document: undefined, item: undefined, problem: rendering.problem });
    return;
  }
  const sources = emptySet();
  for (const path of listedResources(dir).files)
    readText(path, readFileSync(path, 'utf8'), sources);
  const rendered = emptySet();
  readText(`${file} (rendered)`, rendering.text, rendered);
  out.manifests.push(
    ...rendered.manifests.map((manifest) => placeRendered(manifest, sources.manifests, file)),
  );
  out.errors.push(...rendered.errors);
  out.notes.push(
    `${dir}: kustomization rendered with kubectl kustomize (${rendered.manifests.length} objects)`,
  );
}

/** What to do with a directory: a Helm chart is not manifests (its templates are not YAML yet). */
export function helmChartHint(dir: string): string {
  return `a Helm chart: render it and judge the result: helm template RELEASE ${dir} | netguard check -f -`;
}

// Files that are YAML but never Kubernetes objects: Helm's chart metadata and values, CI workflows.
const NOT_MANIFESTS = /^(Chart\.ya?ml|Chart\.lock|values[^/]*\.ya?ml)$/;
const underGithub = (path: string): boolean => path.split(/[\\/]/).includes('.github');

function excluded(path: string, options: ReadOptions): boolean {
  return (options.exclude ?? []).some(
    (glob) => matchesGlob(path, glob) || (!glob.includes('/') && matchesGlob(basename(path), glob)),
  );
}

/**
 * A directory, recursively (.yaml, .yml, .json, in a stable order); a kustomization inside is read
 * as one unit, a Helm chart is skipped and named, hidden folders are not walked.
 */
function readDirectory(dir: string, out: ManifestSet, options: ReadOptions): number {
  const kustomization = kustomizationIn(dir);
  if (kustomization !== undefined) {
    readKustomization(dir, kustomization, out, options);
    return 1;
  }
  let found = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (excluded(path, options)) continue;
    if (entry.isDirectory()) {
      if (entry.name.startsWith('.')) continue;
      if (existsSync(join(path, 'Chart.yaml'))) {
        out.skipped.push({ file: path, document: undefined, reason: helmChartHint(path) });
        found += 1;
      } else found += readDirectory(path, out, options);
    } else if (entry.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      found += 1;
      if (NOT_MANIFESTS.test(entry.name) || underGithub(path))
        out.skipped.push({ file: path, document: undefined, reason: 'not a Kubernetes manifest' });
      else readText(path, readFileSync(path, 'utf8'), out, true);
    }
  }
  return found;
}

/**
 * Reads files, directories (recursively: .yaml, .yml, .json; a kustomization as one unit) and `-`
 * (stdin, read by the caller) into objects. Nothing here throws for bad input: each problem becomes
 * an error naming the file and document, and everything else is still returned.
 */
export function readManifests(
  paths: readonly string[],
  stdin: () => string,
  options: ReadOptions = {},
): ManifestSet {
  const out = emptySet();
  for (const path of paths) {
    if (path === STDIN) {
      readText(STDIN, stdin(), out);
      continue;
    }
    try {
      if (statSync(path).isDirectory()) {
        if (existsSync(join(path, 'Chart.yaml'))) {
          out.errors.push({
            file: path,
            document: undefined,
            item: undefined,
            problem: helmChartHint(path),
          });
        } else if (readDirectory(path, out, options) === 0) {
          out.errors.push({
            file: path,
            document: undefined,
            item: undefined,
            problem: 'no .yaml, .yml or .json files in this directory',
          });
        }
      } else if (isKustomizationFile(path)) readKustomization(dirname(path), path, out, options);
      else readText(path, readFileSync(path, 'utf8'), out);
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
      out.errors.push({
        file: path,
        document: undefined,
        item: undefined,
        problem: `cannot read: ${code}`,
      });
    }
  }
  return out;
}
