import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/** The file names kustomize accepts, in its order of preference. */
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** The kustomization file of a directory, if it has one. */
export function kustomizationIn(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((name) => join(dir, name)).find((path) => existsSync(path));
}

export const isKustomizationFile = (name: string): boolean =>
  KUSTOMIZATION_FILES.some((file) => name === file || name.endsWith(`/${file}`));

export type Rendering =
  | { readonly how: 'kubectl'; readonly text: string }
  | { readonly how: 'unavailable' }
  | { readonly how: 'failed'; readonly problem: string };

// kustomize prints deprecation notices before the error ("# Warning: 'bases' is deprecated ...").
const NOTICE = /^(#\s*)?warning\b/i;

/** What kustomize said went wrong: every stderr line but its warnings (all of it when only warnings). */
export function kustomizeError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const errors = lines.filter((line) => !NOTICE.test(line));
  const shown = (errors.length > 0 ? errors : lines).join('; ');
  return shown === '' ? 'no message (exit status not 0)' : shown;
}

/** `kubectl kustomize DIR`: the real rendering, with patches, prefixes and generators applied. */
export function renderKustomization(dir: string, kubectl = 'kubectl'): Rendering {
  const run = spawnSync(kubectl, ['kustomize', dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (run.error !== undefined) {
    const code = 'code' in run.error ? String(run.error.code) : '';
    return code === 'ENOENT'
      ? { how: 'unavailable' }
      : { how: 'failed', problem: run.error.message };
  }
  if (run.status !== 0)
    return { how: 'failed', problem: `kubectl kustomize failed: ${kustomizeError(run.stderr)}` };
  return { how: 'kubectl', text: run.stdout };
}

const kustomizationSchema = z.looseObject({
  resources: z.array(z.string()).optional(),
  bases: z.array(z.string()).optional(),
});

export interface ListedResources {
  /** Files the kustomization (and the ones it includes) lists, in order. */
  readonly files: string[];
  /** Entries that cannot be read without kustomize: remote bases, missing paths. */
  readonly skipped: string[];
}

const isRemote = (entry: string): boolean =>
  /^[a-z]+:\/\//.test(entry) || /^(github\.com|gitlab\.com|git@)/.test(entry);

/**
 * Without kustomize: the files a kustomization lists under `resources` (and the old `bases`),
 * following nested kustomizations. Patches, prefixes, labels and generators are not applied.
 */
export function listedResources(dir: string, seen: Set<string> = new Set()): ListedResources {
  const out: ListedResources = { files: [], skipped: [] };
  const file = kustomizationIn(dir);
  const real = resolve(dir);
  if (file === undefined || seen.has(real)) return out;
  seen.add(real);
  const parsed = kustomizationSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    out.skipped.push(`${file} (resources is not a list of paths)`);
    return out;
  }
  for (const entry of [...(parsed.data.resources ?? []), ...(parsed.data.bases ?? [])]) {
    const path = join(dir, entry);
    if (isRemote(entry) || !existsSync(path)) {
      out.skipped.push(entry);
      continue;
    }
    if (statSync(path).isDirectory()) {
      const nested = listedResources(path, seen);
      out.files.push(...nested.files);
      out.skipped.push(...nested.skipped);
    } else out.files.push(path);
  }
  return out;
}
