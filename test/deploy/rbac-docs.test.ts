/**
 * Every Role and ClusterRole shipped in deploy/ grants exactly the verbs docs/install.md lists
 * ("What each role grants"): no more (least privilege), no less (a 403 a reader would not expect).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadFixture } from '../helpers/reviews.ts';

type Obj = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return path.endsWith('.yaml') && !entry.startsWith('kustomization') ? [path] : [];
  });
}

/** One line per (role, group, resource, verb), resourceNames included. */
function grantsOf(role: Obj): string[] {
  const name = `${role['kind']} ${role['metadata']['name']}`;
  return (role['rules'] as Obj[]).flatMap((rule) =>
    (rule['apiGroups'] as string[]).flatMap((group) =>
      (rule['resources'] as string[]).flatMap((resource) =>
        (rule['verbs'] as string[]).map(
          (verb) =>
            `${name} ${group || 'core'} ${resource}${rule['resourceNames'] ? `@${rule['resourceNames'].join(',')}` : ''} ${verb}`,
        ),
      ),
    ),
  );
}

/** The table's rows, read as the same lines. */
function documentedGrants(markdown: string): string[] {
  const section = markdown.split('### What each role grants')[1]?.split('\n\n')[1] ?? '';
  return section
    .split('\n')
    .filter((line) => /^\| (Cluster)?Role `/.test(line))
    .flatMap((line) => {
      const [role = '', group = '', resources = '', verbs = ''] = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      const name = role.replace(/`/g, '');
      const only = /\(`([^`]+)` only\)/.exec(resources)?.[1];
      const names = resources
        .replace(/\(`[^`]+` only\)/, '')
        .split(',')
        .map((item) => item.trim());
      return names.flatMap((resource) =>
        verbs
          .split(',')
          .map(
            (verb) =>
              `${name} ${group} ${resource}${only === undefined ? '' : `@${only}`} ${verb.trim()}`,
          ),
      );
    });
}

t.test('each shipped role grants exactly the verbs docs/install.md lists', async (t) => {
  const roles = yamlFiles('deploy')
    .flatMap((file) => loadFixture(file))
    .filter((object) => object['kind'] === 'ClusterRole' || object['kind'] === 'Role');
  t.ok(roles.length >= 8, 'every role is found');
  const shipped = roles.flatMap(grantsOf).sort();
  const documented = documentedGrants(readFileSync('docs/install.md', 'utf8')).sort();
  t.ok(documented.length > 30, 'the table is read');
  t.same(
    shipped.filter((grant) => !documented.includes(grant)),
    [],
    'nothing is granted that the docs do not list',
  );
  t.same(
    documented.filter((grant) => !shipped.includes(grant)),
    [],
    'nothing listed is missing from deploy/',
  );
  t.notOk(
    shipped.some((grant) =>
      /^ClusterRole netguard(-controller)? \S+ (replicasets|jobs)\S* (list|watch)$/.test(grant),
    ),
    'no owner caches: neither the webhook nor the controller lists or watches workloads',
  );
});
