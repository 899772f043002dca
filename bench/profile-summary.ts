import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly label: string;
  readonly selfPct: number;
  readonly totalPct: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly byFunction: readonly ProfileLine[];
  readonly byArea: readonly ProfileLine[];
}

const IDLE = new Set(['(idle)', '(program)']);

/** Which part of the stack a frame belongs to, by its file. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (url === '') return functionName.startsWith('(') ? functionName : 'native / V8 builtins';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module?.[1] !== undefined) return module[1];
  if (url.includes('/src/')) return `netguard ${url.slice(url.indexOf('/src/') + 1)}`;
  if (url.startsWith('node:'))
    return url.startsWith('node:internal/tls') || url.startsWith('node:_tls') || url === 'node:tls'
      ? 'node tls'
      : 'node core';
  return url.replace(/^.*\//, '');
}

function label(frame: CallFrame): string {
  const file = frame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/** Self and inclusive time per function and per area (package or netguard file), over busy time. */
export function summariseProfile(path: string, top = 30): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });

  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  const areaTotal = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (node === undefined || IDLE.has(node.callFrame.functionName)) continue;
    busy += micros;
    fnSelf.set(label(node.callFrame), (fnSelf.get(label(node.callFrame)) ?? 0) + micros);
    areaSelf.set(areaOf(node.callFrame), (areaSelf.get(areaOf(node.callFrame)) ?? 0) + micros);
    // Inclusive: count each function and area once per sample stack, however deep the recursion.
    const seenFns = new Set<string>();
    const seenAreas = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined) break;
      seenFns.add(label(frame));
      seenAreas.add(areaOf(frame));
    }
    for (const fn of seenFns) fnTotal.set(fn, (fnTotal.get(fn) ?? 0) + micros);
    for (const area of seenAreas) areaTotal.set(area, (areaTotal.get(area) ?? 0) + micros);
  }
  const lines = (
    selfMap: Map<string, number>,
    totalMap: Map<string, number>,
    by: 'self' | 'total',
  ): ProfileLine[] =>
    [...(by === 'self' ? selfMap : totalMap).keys()]
      .map((key) => ({
        label: key,
        selfPct: ((selfMap.get(key) ?? 0) / busy) * 100,
        totalPct: ((totalMap.get(key) ?? 0) / busy) * 100,
      }))
      .sort((a, b) => (by === 'self' ? b.selfPct - a.selfPct : b.totalPct - a.totalPct))
      .slice(0, top);
  return {
    busyMs: busy / 1000,
    byFunction: lines(fnSelf, fnTotal, 'self'),
    byArea: lines(areaSelf, areaTotal, 'self'),
  };
}

/** Inclusive time of the functions whose label matches, e.g. netguard's own entry points. */
export function inclusiveOf(path: string, pattern: RegExp): ProfileLine[] {
  return summariseProfile(path, Number.MAX_SAFE_INTEGER)
    .byFunction.filter((line) => pattern.test(line.label))
    .sort((a, b) => b.totalPct - a.totalPct);
}

/** issue 13's components of a review's server CPU, in the order its table lists them. */
export const COMPONENTS = [
  'socket write (TLS)',
  'Node internals',
  'JSON parse',
  'fastify',
  'envelope validation',
  'audit log',
  'metrics',
  'engine',
  'netguard, other',
  'GC',
] as const;
/** Loading and compiling modules at start: in the profile, but no review's cost. */
export const STARTUP = 'startup (module loading)' as const;
export type Component = (typeof COMPONENTS)[number] | typeof STARTUP;

// A sample belongs to the nearest of these frames on its stack (leaf first); without one, to its leaf's area.
const MARKERS: readonly [RegExp, Component][] = [
  [/^(handleWriteReq|writeUtf8String|writeGeneric|writevGeneric)$/, 'socket write (TLS)'],
  [/^(_parse|parse)$/, 'JSON parse'],
  [/^(decodeReview|isAdmissionReview)$/, 'envelope validation'],
  [/^auditLine$/, 'audit log'],
  [/^recordDecision$/, 'metrics'],
  [/^(evaluate|mutate|encodeReview)$/, 'engine'],
];

function componentOfStack(frames: readonly CallFrame[]): Component {
  if (frames.some((frame) => frame.url.startsWith('node:internal/modules/'))) return STARTUP;
  for (const frame of frames) {
    for (const [pattern, component] of MARKERS) {
      if (!pattern.test(frame.functionName)) continue;
      // `parse` only as secure-json-parse's or V8's JSON.parse, not any function of that name.
      if (
        component === 'JSON parse' &&
        frame.url !== '' &&
        !frame.url.includes('secure-json-parse')
      )
        continue;
      return component;
    }
  }
  const leaf = frames[0];
  if (leaf === undefined) return 'Node internals';
  const area = areaOf(leaf);
  if (area === 'GC') return 'GC';
  if (area === 'secure-json-parse') return 'JSON parse';
  if (area === 'pino' || area === 'sonic-boom') return 'audit log';
  if (area === 'prom-client') return 'metrics';
  // The route handlers and the per-review context (policy, caches, waivers, clock).
  if (/\/(src|dist)\//.test(leaf.url) && !leaf.url.includes('node_modules'))
    return 'netguard, other';
  if (
    [
      'fastify',
      'find-my-way',
      'toad-cache',
      'avvio',
      'light-my-request',
      'fast-json-stringify',
    ].includes(area) ||
    area.startsWith('@fastify/')
  )
    return 'fastify';
  return 'Node internals';
}

/** Busy milliseconds per component over the whole profile. */
export function componentsOf(path: string): Map<Component, number> {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<Component, number>(
    [...COMPONENTS, STARTUP].map((component): [Component, number] => [component, 0]),
  );
  const memo = new Map<number, Component>();
  profile.samples.forEach((id, index) => {
    const leaf = byId.get(id);
    if (leaf === undefined || IDLE.has(leaf.callFrame.functionName)) return;
    let component = memo.get(id);
    if (component === undefined) {
      const frames: CallFrame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)?.callFrame;
        if (frame !== undefined) frames.push(frame);
      }
      component = componentOfStack(frames);
      memo.set(id, component);
    }
    totals.set(component, (totals.get(component) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  return totals;
}
