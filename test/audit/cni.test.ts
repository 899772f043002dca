import t from 'tap';
import { detectCni } from '../../src/cni.ts';

const ds = (
  namespace: string,
  name: string,
  containers: Record<string, unknown>[] = [{ name, image: `example/${name}:1` }],
) => ({
  kind: 'DaemonSet',
  metadata: { name, namespace },
  spec: { template: { spec: { containers } } },
});

t.test('enforcing CNIs are recognised by their DaemonSets', async (t) => {
  const cases: [string, string, string][] = [
    ['kube-system', 'calico-node', 'Calico'],
    ['calico-system', 'calico-node', 'Calico'],
    ['kube-system', 'cilium', 'Cilium'],
    ['kube-system', 'anetd', 'GKE Dataplane V2'],
    ['kube-system', 'antrea-agent', 'Antrea'],
    ['kube-system', 'kube-router', 'kube-router'],
    ['kube-system', 'weave-net', 'Weave Net'],
    ['kube-system', 'canal', 'Canal'],
    ['kube-system', 'azure-npm', 'Azure Network Policy Manager'],
  ];
  for (const [namespace, name, cni] of cases) {
    const verdict = detectCni([ds('kube-system', 'kube-proxy'), ds(namespace, name)]);
    t.same(
      verdict.found.map((f) => [f.name, f.daemonSet, f.enforces]),
      [[cni, `${namespace}/${name}`, true]],
      name,
    );
    t.equal(verdict.warning, undefined, `${name}: no warning`);
  }
  t.equal(detectCni([ds('kube-system', 'cilium')]).fqdnEgress, true, 'Cilium offers toFQDNs');
  t.equal(detectCni([ds('kube-system', 'calico-node')]).fqdnEgress, false);
});

t.test(
  'bare flannel, nothing known, a disabled AWS policy agent or an old kindnet: a loud warning',
  async (t) => {
    const flannel = detectCni([ds('kube-flannel', 'kube-flannel-ds-amd64')]);
    t.equal(flannel.enforcing, false);
    t.match(
      flannel.warning,
      /^NO NETWORKPOLICY-ENFORCING CNI DETECTED \(found flannel, which does not enforce it\)\. The API server accepts NetworkPolicies, but nothing enforces them/,
    );
    t.match(
      detectCni([ds('kube-system', 'kube-proxy')]).warning,
      /\(no known CNI DaemonSet was found\)/,
    );

    const awsOff = ds('kube-system', 'aws-node', [
      { name: 'aws-node', image: 'aws/vpc-cni:v1.19' },
      { name: 'aws-network-policy-agent', args: ['--enable-network-policy=false'] },
    ]);
    const awsOn = ds('kube-system', 'aws-node', [
      { name: 'aws-node', image: 'aws/vpc-cni:v1.19' },
      { name: 'aws-network-policy-agent', args: ['--enable-network-policy=true'] },
    ]);
    t.match(detectCni([awsOff]).found[0], {
      name: 'AWS VPC CNI',
      enforces: false,
      note: /not enabled/,
    });
    t.equal(detectCni([awsOn]).enforcing, true);

    t.equal(
      detectCni([
        ds('kube-system', 'kindnet', [
          { name: 'kindnet-cni', image: 'docker.io/kindest/kindnetd:v20230511-dc714da8' },
        ]),
      ]).enforcing,
      false,
      'kind before v0.24.0',
    );
    t.equal(
      detectCni([
        ds('kube-system', 'kindnet', [
          { name: 'kindnet-cni', image: 'docker.io/kindest/kindnetd:v20241108-5c6d2daf' },
        ]),
      ]).enforcing,
      true,
    );
    t.equal(
      detectCni([ds('kube-system', 'calico-node'), ds('kube-flannel', 'kube-flannel-ds')])
        .enforcing,
      true,
      'flannel with Calico beside it is enforced',
    );
  },
);
