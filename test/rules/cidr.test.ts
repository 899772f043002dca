import t from 'tap';
import {
  contains,
  coveredBy,
  isWorld,
  overlapsOutside,
  parseCidr,
  type CidrRange,
} from '../../src/cidr.ts';

const cidr = (text: string): CidrRange => {
  const range = parseCidr(text);
  if (range === undefined) throw new Error(`test CIDR ${text} does not parse`);
  return range;
};

t.test('parses IPv4 and IPv6 as Kubernetes writes them, masking host bits', async (t) => {
  t.same(cidr('10.1.2.3/8'), cidr('10.0.0.0/8'));
  t.equal(cidr('160.79.104.0/23').last - cidr('160.79.104.0/23').first, 511n);
  t.equal(cidr('2001:db8::/32').family, 'ipv6');
  t.ok(isWorld(cidr('0.0.0.0/0')) && isWorld(cidr('::/0')));
  t.notOk(isWorld(cidr('0.0.0.0/1')));
});

t.test(
  'refuses what the API server refuses: short, octal or hex IPv4, bad prefixes, plain addresses',
  async (t) => {
    for (const text of [
      '10/8',
      '010.0.0.0/8',
      '0x0a.0.0.0/8',
      '10.0.0.0/33',
      '10.0.0.0',
      '2001:db8::/129',
      '',
      'any',
      '10.0.0.0/8\n',
    ]) {
      t.equal(parseCidr(text), undefined, JSON.stringify(text));
    }
  },
);

t.test('containment is whole: inside, equal, merely overlapping, other family', async (t) => {
  const approved = cidr('160.79.104.0/23');
  t.ok(contains(approved, cidr('160.79.105.16/28')));
  t.ok(contains(approved, approved));
  t.notOk(contains(approved, cidr('160.79.104.0/22')), 'a wider block that overlaps is not inside');
  t.notOk(contains(approved, cidr('160.79.106.0/24')));
  t.notOk(contains(cidr('0.0.0.0/0'), cidr('::/0')), 'IPv4 never contains IPv6');
  t.ok(contains(cidr('2001:db8::/32'), cidr('2001:db8:1::/48')));
});

t.test('except carves holes: overlap counts only where no except covers it', async (t) => {
  const pods = cidr('10.244.0.0/16');
  t.ok(overlapsOutside(cidr('10.0.0.0/8'), pods, []));
  t.notOk(overlapsOutside(cidr('10.0.0.0/8'), pods, [cidr('10.244.0.0/16')]));
  t.notOk(
    overlapsOutside(cidr('10.0.0.0/8'), pods, [cidr('10.244.0.0/17'), cidr('10.244.128.0/17')]),
    'two halves cover the whole',
  );
  t.ok(
    overlapsOutside(cidr('10.0.0.0/8'), pods, [cidr('10.244.0.0/17')]),
    'one half leaves the other in',
  );
  t.notOk(overlapsOutside(cidr('192.168.0.0/16'), pods, []));
  t.ok(coveredBy(cidr('10.244.3.0/24'), [cidr('10.0.0.0/8')]));
  t.notOk(coveredBy(cidr('10.244.3.0/24'), []));
});
