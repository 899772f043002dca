/**
 * What the CLI needs from the Node running it, checked before anything else loads: on an older
 * Node the dependencies fail with a stack trace from deep inside undici, so say it in one line.
 * Plain JavaScript semantics only here (no newer APIs): this module must run on any Node.
 */
export const NODE_REQUIRED = [22, 19] as const;

/** One line for a Node too old to run netguard, or undefined when this one will do. */
export function nodeTooOld(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  const [needMajor, needMinor] = NODE_REQUIRED;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `netguard needs Node.js ${needMajor}.${needMinor} or newer (24 LTS recommended); this is Node.js ${version}. Install a newer Node, or use the standalone binary, which brings its own.\n`;
}

/**
 * Node's own warnings (experimental features, deprecations inside dependencies) are not the
 * user's business and would land in CI logs and annotations; NODE_OPTIONS=--trace-warnings or
 * NETGUARD_NODE_WARNINGS=1 keeps them.
 */
export function quietNodeWarnings(
  proc: Pick<NodeJS.Process, 'removeAllListeners'>,
  env: NodeJS.ProcessEnv,
): void {
  if (env['NETGUARD_NODE_WARNINGS'] === '1') return;
  if ((env['NODE_OPTIONS'] ?? '').includes('--trace-warnings')) return;
  proc.removeAllListeners('warning');
}
