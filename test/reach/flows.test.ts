import t from 'tap';
import { parseFlows } from '../../src/reach/flows.ts';

const endpoint = (namespace: string, pod: string, workload?: string) => ({
  namespace,
  pod_name: pod,
  labels: [`k8s:io.kubernetes.pod.namespace=${namespace}`],
  ...(workload === undefined ? {} : { workloads: [{ name: workload, kind: 'Deployment' }] }),
});
const flow = (extra: Record<string, unknown>) => ({
  verdict: 'FORWARDED',
  IP: { source: '10.244.1.5', destination: '10.244.2.7', ipVersion: 'IPv4' },
  l4: { TCP: { source_port: 40100, destination_port: 8080, flags: { SYN: true } } },
  source: endpoint('shop', 'web-7d9f8b6c5b-4kq2m', 'web'),
  destination: endpoint('shop', 'api-6b4f9d8c7-pq9xv'),
  is_reply: false,
  ...extra,
});
const lines = (...records: unknown[]): string =>
  records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

t.test(
  'Hubble JSON: wrapped (`{"flow": ...}`) and bare flows, replies and non-L4 skipped with a reason',
  async (t) => {
    const set = parseFlows(
      'flows.json',
      lines(
        { flow: flow({}), node_name: 'kind-worker', time: '2026-11-24T09:00:00Z' },
        flow({}),
        flow({
          is_reply: true,
          l4: {
            TCP: { source_port: 8080, destination_port: 40100, flags: { SYN: true, ACK: true } },
          },
        }),
        flow({ l4: { ICMPv4: { type: 8 } } }),
        flow({ source: { identity: 1, labels: ['reserved:host'] } }),
        flow({
          destination: { identity: 2, labels: ['reserved:world'] },
          IP: { source: '10.244.1.5', destination: '160.79.104.10' },
          l4: { UDP: { destination_port: 443 } },
        }),
        flow({ verdict: 'ERROR' }),
        '{not json',
        JSON.stringify({ flow: { l4: { TCP: { destination_port: 99999 } } } }),
      ),
    );
    t.same(set.flows, [
      {
        from: {
          kind: 'workload',
          namespace: 'shop',
          names: ['web', 'web-7d9f8b6c5b-4kq2m', 'web-7d9f8b6c5b'],
        },
        to: {
          kind: 'workload',
          namespace: 'shop',
          names: ['api-6b4f9d8c7-pq9xv', 'api', 'api-6b4f9d8c7'],
        },
        port: 8080,
        protocol: 'TCP',
        count: 2,
        dropped: false,
      },
      {
        from: {
          kind: 'workload',
          namespace: 'shop',
          names: ['web', 'web-7d9f8b6c5b-4kq2m', 'web-7d9f8b6c5b'],
        },
        to: { kind: 'address', address: '160.79.104.10' },
        port: 443,
        protocol: 'UDP',
        count: 1,
        dropped: false,
      },
    ]);
    t.same(set.skipped, [
      'flows.json:3: a reply',
      'flows.json:4: no TCP, UDP or SCTP destination port (ICMP or another protocol)',
      "flows.json:5: source is the pod's own node (reserved:host; NetworkPolicy always admits it)",
      'flows.json:7: verdict ERROR',
      'flows.json:8: not valid JSON',
      'flows.json:9: not a Hubble flow',
    ]);
  },
);

t.test(
  'CSV: header and comments ignored, an empty namespace makes an address, bad fields named',
  async (t) => {
    const set = parseFlows(
      'flows.csv',
      [
        'src_namespace,src_workload,dst_namespace,dst_workload,port,protocol',
        '# recorded 2026-11-24',
        'shop,web,shop,api,8080,tcp',
        'shop,web,shop,api,8080,TCP',
        'shop,web,,160.79.104.10,443,TCP',
        'shop,web,shop,api,http,TCP',
        'shop,web,shop,api,0,TCP',
        'shop,web,shop,api,80,ICMP',
        'shop,web,shop,api,80',
        'shop,,shop,api,80,TCP',
      ].join('\r\n'),
    );
    t.same(set.flows, [
      {
        from: { kind: 'workload', namespace: 'shop', names: ['web'] },
        to: { kind: 'workload', namespace: 'shop', names: ['api'] },
        port: 8080,
        protocol: 'TCP',
        count: 2,
        dropped: false,
      },
      {
        from: { kind: 'workload', namespace: 'shop', names: ['web'] },
        to: { kind: 'address', address: '160.79.104.10' },
        port: 443,
        protocol: 'TCP',
        count: 1,
        dropped: false,
      },
    ]);
    t.same(set.skipped, [
      'flows.csv:6: port: "http" is not a port from 1 to 65535',
      'flows.csv:7: port: "0" is not a port from 1 to 65535',
      'flows.csv:8: protocol: "ICMP" is not TCP, UDP or SCTP',
      'flows.csv:9: expected 6 comma-separated fields, got 5',
      'flows.csv:10: source is an empty workload',
    ]);
  },
);

t.test('a file of garbage keeps at most 50 reasons and no flow', async (t) => {
  const set = parseFlows('junk.json', Array.from({ length: 500 }, () => '{"flow": 1}').join('\n'));
  t.equal(set.flows.length, 0);
  t.equal(set.skipped.length, 50);
});

t.test('a flow only ever dropped stays dropped; one that also got through does not', async (t) => {
  const set = parseFlows(
    'flows.json',
    lines(
      flow({ verdict: 'DROPPED' }),
      flow({ verdict: 'DROPPED', l4: { TCP: { destination_port: 22 } } }),
      flow({}),
    ),
  );
  t.same(
    set.flows.map((f) => [f.port, f.count, f.dropped]),
    [
      [8080, 2, false],
      [22, 1, true],
    ],
  );
});
