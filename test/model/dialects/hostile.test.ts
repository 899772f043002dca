import fc from 'fast-check';
import t from 'tap';
import { meaningsOfDialect } from '../../../src/model/dialects/meanings.ts';
import { parseCalicoSelector } from '../../../src/model/dialects/calico-selector.ts';
import { fqdnApproved } from '../../../src/model/dialects/fqdn.ts';
import { DIALECT_POLICY_KINDS, type KubeObject } from '../../../src/vocabulary.ts';
import '../../helpers/property.ts';

// Shapes a hostile tenant may write: any JSON where the dialect expects rules, selectors and ports.
const hostileSpec = fc.oneof(
  fc.jsonValue(),
  fc.record({
    endpointSelector: fc.jsonValue(),
    selector: fc.oneof(fc.string(), fc.jsonValue()),
    ingress: fc.array(
      fc.dictionary(
        fc.constantFrom(
          'fromEndpoints',
          'fromCIDRSet',
          'toPorts',
          'source',
          'destination',
          'from',
          'action',
          '__proto__',
        ),
        fc.jsonValue(),
      ),
      { maxLength: 3 },
    ),
    egress: fc.array(
      fc.dictionary(
        fc.constantFrom(
          'toEntities',
          'toFQDNs',
          'toCIDR',
          'toServices',
          'destination',
          'to',
          'ports',
          'action',
        ),
        fc.jsonValue(),
      ),
      { maxLength: 3 },
    ),
    subject: fc.jsonValue(),
  }),
);

t.test('every dialect compiler reads any JSON without throwing', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(...DIALECT_POLICY_KINDS),
      hostileSpec,
      fc.jsonValue(),
      (kind, spec, specs) => {
        const object = { metadata: { name: 'x', namespace: 'prod-x' }, spec, specs } as KubeObject;
        const meanings = meaningsOfDialect(kind, 'v2', object, () => undefined);
        return Array.isArray(meanings);
      },
    ),
  );
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

t.test('Calico selectors: unreadable expressions select everything, never fewer', async (t) => {
  t.same(parseCalicoSelector("app == 'a' || app == 'b'").everything, true);
  t.same(parseCalicoSelector('!(has(x))').everything, true);
  t.same(parseCalicoSelector(42).everything, true);
  const read = parseCalicoSelector("app == 'api' && tier in {'a', \"b\"} && !has(x)");
  t.same(read.requirements, [
    { key: 'app', operator: 'In', values: ['api'] },
    { key: 'tier', operator: 'In', values: ['a', 'b'] },
    { key: 'x', operator: 'DoesNotExist', values: [] },
  ]);
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      parseCalicoSelector(text);
    }),
  );
});

t.test('approvedEgressFQDNs with Cilium wildcards', async (t) => {
  t.ok(fqdnApproved('api.stripe.com', ['*.stripe.com']));
  t.notOk(fqdnApproved('a.b.stripe.com', ['*.stripe.com']), '* is one label');
  t.ok(fqdnApproved('a.b.stripe.com', ['**.stripe.com']), '**. is any number of labels');
  t.ok(fqdnApproved('*.stripe.com', ['*.stripe.com']), 'verbatim');
  t.notOk(fqdnApproved('*', ['*.stripe.com']), 'every name is never covered by a narrower entry');
  t.notOk(fqdnApproved('stripe.com.evil.net', ['stripe.com']));
  t.ok(
    fqdnApproved('API.Stripe.com.', ['api.stripe.com']),
    'case and the trailing dot do not matter',
  );
});
