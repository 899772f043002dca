import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { parseCidr } from '../../src/cidr.ts';
import type { Endpoint } from '../../src/reach/model.ts';
import { buildGraph } from '../../src/reach/world.ts';

// How objects become workloads: kinds, owned pods, named ports, duplicate names.
const objects = parseAllDocuments(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: frontend}}
    spec: {containers: [{name: web, image: web:1, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: stray}}
spec: {containers: [{name: stray, image: stray:1}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web:1}]}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-5d8f-abcde
  namespace: shop
  labels: {app: web, pod-template-hash: 5d8f}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f, uid: u2, controller: true}]
spec: {containers: [{name: web, image: web:1}]}
status: {podIP: 10.244.7.7, podIPs: [{ip: 10.244.7.7}, {ip: "fd00::7"}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec: {containers: [{name: r, image: r:1, ports: [{containerPort: 9000, protocol: UDP}]}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: shop}
spec:
  selector: {app: legacy}
  template: {metadata: {labels: {app: legacy}}, spec: {containers: [{name: l, image: l:1}]}}
---
apiVersion: v1
kind: Pod
metadata:
  name: legacy-x1
  namespace: shop
  labels: {app: legacy}
  ownerReferences: [{apiVersion: v1, kind: ReplicationController, name: legacy, uid: u3, controller: true}]
spec: {containers: [{name: l, image: l:1}]}
status: {podIP: 10.244.7.9}
`).map((doc) => doc.toJS() as Record<string, unknown>);

t.test(
  'workloads: one per controller, owned pods lend their IPs, a name means the Deployment first',
  async (t) => {
    const graph = buildGraph(objects);
    t.same(
      graph.workloads.map((w) => `${w.workloadKind} ${w.id}`),
      ['Deployment shop/web', 'CronJob shop/report', 'ReplicationController shop/legacy'],
    );
    const web = graph.workload('shop/web');
    t.same(web?.labels, { app: 'web', tier: 'frontend' });
    t.same(web?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    t.same(
      web?.addresses.map((a) => `${a.family} ${a.prefix}`),
      ['ipv4 32', 'ipv6 128'],
      'both pod IPs, once each',
    );
    t.same(graph.workload('shop/report')?.ports, [
      { name: undefined, port: 9000, protocol: 'UDP' },
    ]);
    t.equal(
      graph.workload('shop/legacy')?.addresses.length,
      1,
      'a ReplicationController selector is a plain map',
    );
    t.same(
      graph.namespace('shop')?.labels,
      { 'kubernetes.io/metadata.name': 'shop' },
      'an undeclared namespace exists with its name label',
    );
  },
);

t.test('ipBlock peers name a workload through its pods\u2019 IPs', async (t) => {
  const policy = parse(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: legacy-to-web-ip, namespace: shop}
spec:
  podSelector: {matchLabels: {app: legacy}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.244.7.0/24, except: [10.244.7.9/32]}}], ports: [{port: http}]}]
`) as Record<string, unknown>;
  const graph = buildGraph([...objects, policy]);
  const w = (id: string): Endpoint =>
    graph.workload(id) ?? {
      kind: 'external',
      id,
      address: { family: 'ipv4', prefix: 32, first: 0n, last: 0n },
    };
  const address = parseCidr('10.244.7.8/32');
  if (address === undefined) throw new Error('cidr');
  t.equal(
    graph.decide(w('shop/legacy'), w('shop/web'), 8080, 'TCP').allowed,
    true,
    'web\u2019s pod IP is in the block; http is 8080 on web',
  );
  t.same(
    graph.decide(w('shop/legacy'), w('shop/legacy'), 8080, 'TCP').egress,
    { allowed: false, policies: ['legacy-to-web-ip'] },
    'its own IP is excepted',
  );
  t.equal(
    graph.decide(w('shop/legacy'), { kind: 'external', id: '10.244.7.8', address }, 8080, 'TCP')
      .allowed,
    false,
    'a named port never matches an address',
  );
  t.equal(graph.workloadAt(address), undefined);
});
