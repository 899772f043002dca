import { spawnSync } from 'node:child_process';
import t from 'tap';
import { runCli } from '../check/run-cli.ts';

/** What bash completes for `netguard WORDS<TAB>` with the generated script. */
function complete(script: string, words: readonly string[]): string[] {
  const line = `${script}\nCOMP_WORDS=(netguard ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _netguard; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return spawnSync('/bin/bash', ['-c', line], { encoding: 'utf8', env: { PATH: '/nonexistent' } })
    .stdout.split('\n')
    .filter((word) => word !== '');
}

t.test(
  'bash: -o offers each command its own formats; --environment the policy environments',
  async (t) => {
    const script = runCli(['completion', 'bash']).stdout;
    t.same(complete(script, ['reach', '-o', '']), ['text', 'json', 'dot', 'mermaid']);
    t.same(complete(script, ['check', '-o', '']), [
      'text',
      'json',
      'yaml',
      'sarif',
      'junit',
      'github',
    ]);
    t.same(complete(script, ['exception', 'list', '--output', '']), ['text', 'json', 'yaml']);
    t.same(complete(script, ['check', '--environment', 'p']), ['production']);
    t.same(
      complete(script, ['check', '-n', '']),
      [],
      'namespaces come from kubectl (none on this PATH)',
    );
    t.match(script, "kubectl get namespaces -o jsonpath='{.items[*].metadata.name}'");
  },
);
