import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The verbs a ClusterRole of a deploy/ file grants on one group's resource. */
export function granted(file: string, role: string, group: string, resource: string): string[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string }; rules?: RoleRule[] })
    .filter((doc) => doc.kind === 'ClusterRole' && doc.metadata?.name === role)
    .flatMap((doc) => doc.rules ?? [])
    .filter((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource))
    .flatMap((rule) => rule.verbs);
}
