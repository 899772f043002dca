import { isMap, isSeq, LineCounter, type Node } from 'yaml';

/** A field path as findings spell it (`spec.egress[0].to[0].ipBlock.cidr`), as keys and indexes. */
export function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (match === null) {
      segments.push(part);
      continue;
    }
    if (match[1] !== undefined && match[1] !== '') segments.push(match[1]);
    for (const index of (match[2] ?? '').matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

/** The child at one path step, and the node whose line names it (a map entry's key, a list item). */
function child(node: Node, segment: string | number): { node: Node; at: Node } | undefined {
  if (isMap(node) && typeof segment === 'string') {
    const pair = node.items.find(
      (item) => (item.key as { value?: unknown } | null)?.value === segment,
    );
    const key = pair?.key as Node | null | undefined;
    if (key === null || key === undefined) return undefined;
    return { node: (pair?.value as Node | null | undefined) ?? key, at: key };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment] as Node | undefined;
    return item === undefined ? undefined : { node: item, at: item };
  }
  return undefined;
}

/**
 * Where an object and its fields sit in the source text. A path that names a missing field
 * (`spec.policyTypes` when it was left out) lands on its deepest present parent.
 */
export interface SourceMap {
  /** 1-based line of the object itself. */
  readonly line: number;
  lineOf(path: string): number;
}

export function sourceMapOf(node: Node | null | undefined, lines: LineCounter): SourceMap {
  const lineAt = (n: Node): number =>
    n.range === undefined || n.range === null ? 1 : lines.linePos(n.range[0]).line;
  const line = node === null || node === undefined ? 1 : lineAt(node);
  return {
    line,
    lineOf(path) {
      if (node === null || node === undefined) return line;
      let here: Node = node;
      let at: Node = node;
      for (const segment of pathSegments(path)) {
        const next = child(here, segment);
        if (next === undefined) break;
        here = next.node;
        at = next.at;
      }
      return lineAt(at);
    },
  };
}

/** For objects that came from somewhere without positions (a rendered kustomization). */
export const lineOnly = (line: number): SourceMap => ({ line, lineOf: () => line });

export { LineCounter };
