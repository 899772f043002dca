import t from 'tap';
import { deniedTypes, desiredBaseline } from '../../src/model/baseline-policies.ts';

const dns = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } };
const names = (annotations: Record<string, string>) =>
  desiredBaseline(annotations, dns).map((p) => p.name);

t.test('the annotations decide the baseline; allows always come before the deny', async (t) => {
  t.same(
    names({ 'netguard.dev/default-deny': 'Ingress,Egress', 'netguard.dev/allow-dns': 'true' }),
    ['netguard-allow-dns', 'netguard-default-deny'],
  );
  t.same(
    names({ 'netguard.dev/default-deny': 'Ingress', 'netguard.dev/allow-dns': 'true' }),
    ['netguard-allow-same-namespace', 'netguard-default-deny'],
    'an Egress DNS policy would isolate egress in constrain',
  );
  t.same(
    names({ 'netguard.dev/default-deny': 'Egress' }),
    ['netguard-default-deny'],
    'no allow-dns annotation, no DNS policy',
  );
  t.same(names({ 'netguard.dev/baseline': 'observe' }), []);
  t.same(names({ 'netguard.dev/default-deny': 'Ingres' }), [], 'a typo isolates nothing');
  t.same(deniedTypes(' Egress , Ingress'), ['Ingress', 'Egress']);
  const [dnsPolicy] = desiredBaseline(
    { 'netguard.dev/default-deny': 'Egress', 'netguard.dev/allow-dns': 'true' },
    { namespace: 'dns', podLabels: { app: 'coredns' } },
  );
  t.same(
    dnsPolicy?.spec['egress'],
    [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } },
            podSelector: { matchLabels: { app: 'coredns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
    "the policy's DNS settings",
  );
  t.same(dnsPolicy?.labels, { 'app.kubernetes.io/managed-by': 'netguard' });
});
