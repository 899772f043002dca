import { field } from '../object-access.ts';
import { POD_KINDS } from '../vocabulary.ts';
import type { Rule } from '../engine/types.ts';
import { podTemplateOf } from '../model/pod-template.ts';

export const podHostNetwork: Rule = {
  id: 'POD003',
  name: 'host-network',
  kinds: POD_KINDS,
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks: 'Pods do not set `hostNetwork: true`.',
    prevents:
      "A host-network pod shares the node's network namespace: NetworkPolicies do not apply to it, so it bypasses every guardrail and can reach whatever the node can.",
    fix: 'Remove `hostNetwork: true`. If the pod truly needs the node network (a CNI or node agent), run it in an excluded namespace or request an exception.',
    fires: `apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: prod-shop, labels: {app: agent, tier: backend}}
spec: {hostNetwork: true, containers: [{name: agent, image: busybox:1.36}]}
`,
    passes: `apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: prod-shop, labels: {app: agent, tier: backend}}
spec: {containers: [{name: agent, image: busybox:1.36}]}
`,
  },
  check(target) {
    const template = podTemplateOf(target.kind, target.object);
    if (template === undefined || field(template.spec, 'hostNetwork') !== true) return [];
    return [
      {
        path: `${template.prefix}spec.hostNetwork`,
        message:
          "hostNetwork: true puts these pods in the node's network namespace, where NetworkPolicies do not apply.",
        fix: 'Remove hostNetwork, or request an exception if the pod must use the node network.',
      },
    ];
  },
};
