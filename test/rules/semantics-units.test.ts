import t from 'tap';
import { opensInternet } from '../../src/model/public-space.ts';
import { ipBlockAddresses, isSubset, union } from '../../src/semantics/addresses.ts';
import { opensEveryPort, portSet, portSetNoBroader } from '../../src/semantics/ports.ts';
import {
  hasEqualityRequirement,
  requiresLabel,
  selectorNoBroader,
  selectsEveryNamespace,
  selectsEveryPod,
} from '../../src/semantics/selectors.ts';
import type { Selector } from '../../src/semantics/selectors.ts';

const selector = (partial: Partial<Selector>): Selector => ({
  matchLabels: {},
  matchExpressions: [],
  ...partial,
});
const block = (cidr: string, except: string[] = []) => {
  const set = ipBlockAddresses(cidr, except);
  if (set === undefined) throw new Error(cidr);
  return set;
};

t.test('selectors', async (t) => {
  t.ok(selectsEveryNamespace(selector({})));
  t.ok(
    selectsEveryNamespace(
      selector({
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'Exists', values: [] }],
      }),
    ),
  );
  t.ok(
    selectsEveryNamespace(
      selector({ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['x'] }] }),
    ),
  );
  t.notOk(
    selectsEveryNamespace(
      selector({ matchExpressions: [{ key: 'team', operator: 'Exists', values: [] }] }),
    ),
    'Exists on another label is a requirement',
  );
  t.notOk(
    selectsEveryNamespace(
      selector({
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'DoesNotExist', values: [] },
        ],
      }),
    ),
    'selects no namespace at all',
  );
  t.notOk(selectsEveryNamespace(selector({ matchLabels: { team: 'a' } })));
  t.notOk(
    selectsEveryPod(
      selector({ matchExpressions: [{ key: 'app', operator: 'Exists', values: [] }] }),
    ),
  );
  t.ok(
    requiresLabel(
      selector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] }),
      'tier',
      'frontend',
    ),
  );
  t.notOk(
    requiresLabel(
      selector({
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'backend'] }],
      }),
      'tier',
      'frontend',
    ),
  );
  t.ok(
    requiresLabel(
      selector({
        matchLabels: { tier: 'frontend' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'backend'] }],
      }),
      'tier',
      'frontend',
    ),
    'both must hold: frontend',
  );
  t.notOk(hasEqualityRequirement({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }));
  t.ok(hasEqualityRequirement({ matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] }));
  t.ok(
    selectorNoBroader(
      selector({ matchLabels: { app: 'a', tier: 'b' } }),
      selector({ matchLabels: { app: 'a' } }),
    ),
  );
  t.notOk(selectorNoBroader(selector({}), selector({ matchLabels: { app: 'a' } })));
});

t.test('address sets', async (t) => {
  t.ok(opensInternet(union(block('0.0.0.0/1'), block('128.0.0.0/1'))));
  t.ok(opensInternet(block('::ffff:0.0.0.0/96')), 'IPv4-mapped is IPv4');
  t.ok(opensInternet(block('::/0')));
  t.ok(opensInternet(block('0.0.0.0/0', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])));
  t.ok(opensInternet(block('::/0', ['::1/128'])));
  t.ok(opensInternet(block('0.0.0.0/2')));
  t.ok(opensInternet(block('64:ff9b::/96')), 'NAT64 reaches every IPv4 address');
  t.ok(opensInternet(block('2002::/16')), '6to4 reaches every IPv4 address');
  t.notOk(opensInternet(block('52.94.0.0/16')), "a partner's /16");
  t.notOk(opensInternet(block('2600:9000::/29')), "a CDN's published IPv6 /29");
  t.notOk(opensInternet(block('10.0.0.0/8')), 'private space is not the internet');
  t.notOk(opensInternet(block('0.0.0.0/1'), block('0.0.0.0/1')), 'privateCIDRs are not public');
  t.ok(
    isSubset(union(block('160.79.104.0/24'), block('160.79.105.0/24')), block('160.79.104.0/23')),
  );
  t.ok(
    isSubset(block('160.79.104.0/22', ['160.79.106.0/23']), block('160.79.104.0/23')),
    'except carves it down to the approved block',
  );
  t.equal(ipBlockAddresses('10/8', []), undefined, 'refused as the API server refuses it');
});

t.test('port sets', async (t) => {
  t.ok(opensEveryPort(portSet([])));
  t.ok(opensEveryPort(portSet([{ protocol: 'TCP', port: undefined, endPort: undefined }])));
  t.ok(
    opensEveryPort(
      portSet([
        { protocol: 'UDP', port: 1, endPort: 100 },
        { protocol: 'UDP', port: 101, endPort: 65535 },
      ]),
    ),
  );
  t.ok(
    opensEveryPort(portSet([{ protocol: 'TCP', port: 2, endPort: 65535 }])),
    'fewer than 1,024 ports closed is every port',
  );
  t.ok(
    opensEveryPort(portSet([{ protocol: 'TCP', port: 1024, endPort: 65535 }])),
    '1,023 ports closed: every port',
  );
  t.notOk(
    opensEveryPort(portSet([{ protocol: 'TCP', port: 1025, endPort: 65535 }])),
    '1,024 ports closed: a restriction',
  );
  t.ok(
    opensEveryPort(
      portSet([
        { protocol: 'TCP', port: 1, endPort: 21 },
        { protocol: 'TCP', port: 23, endPort: 65535 },
      ]),
    ),
    'everything but port 22',
  );
  t.notOk(opensEveryPort(portSet([{ protocol: 'TCP', port: 'http', endPort: undefined }])));
  t.ok(
    portSetNoBroader(
      portSet([{ protocol: 'TCP', port: 443, endPort: undefined }]),
      portSet([{ protocol: 'TCP', port: 400, endPort: 500 }]),
    ),
  );
  t.notOk(
    portSetNoBroader(portSet([]), portSet([{ protocol: 'TCP', port: 443, endPort: undefined }])),
  );
  t.notOk(
    portSetNoBroader(
      portSet([{ protocol: 'UDP', port: 443, endPort: undefined }]),
      portSet([{ protocol: 'TCP', port: 443, endPort: undefined }]),
    ),
  );
});
