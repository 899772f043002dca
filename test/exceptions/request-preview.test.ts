import t from 'tap';
import { runRequest } from './request-preview-run.ts';

t.test(
  'exception request without --apply says when EX001 or EX002 would refuse the waiver',
  async (t) => {
    const refused = await runRequest([
      '-n',
      'prod-shop',
      '--rule',
      'NP004',
      '--target',
      'networkpolicy/x',
      '--expires',
      '30d',
      '--reason',
      'vendor outage',
    ]);
    t.equal(refused.code, 0, 'the YAML is still printed');
    t.match(refused.stdout, 'kind: GuardrailException');
    t.match(refused.stderr, '# netguard would refuse this waiver as it is (policy ');
    t.match(
      refused.stderr,
      /# {3}EX001 exception-expiry at spec\.expires: .* is 30 days away, longer than a waiver may last here\. .*production allows at most 14d/,
    );
    t.match(refused.stderr, '#   EX002 exception-ownership at spec.owner: is missing or empty');
    t.notMatch(
      refused.stderr,
      'EX004',
      'requestedBy is set by the mutating webhook at --apply, not judged here',
    );
    const fine = await runRequest([
      '-n',
      'prod-shop',
      '--rule',
      'NP004',
      '--target',
      'networkpolicy/x',
      '--expires',
      '7d',
      '--reason',
      'vendor outage',
      '--owner',
      'team-shop@example.com',
    ]);
    t.equal(fine.code, 0);
    t.notMatch(fine.stderr, 'would refuse');
    t.match(fine.stderr, '# Next: run this again with --apply');
  },
);
