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

t.test(
  'exception list: with KUBECONFIG set and no exceptions file it reads the cluster, and names what it read',
  async (t) => {
    const { startFakeKubeApi } = await import('../helpers/fake-kube-api.ts');
    const { runExceptionList } = await import('../../src/cli/exception.ts');
    const api = await startFakeKubeApi(t);
    api.seed('/apis/netguard.dev/v1alpha1/guardrailexceptions', {
      apiVersion: 'netguard.dev/v1alpha1',
      kind: 'GuardrailException',
      metadata: { name: 'vendor-egress', namespace: 'prod-shop' },
      spec: {
        rules: ['NP004'],
        target: { kind: 'NetworkPolicy', name: 'x' },
        reason: 'vendor outage',
        owner: 'team-shop@example.com',
        expires: new Date(Date.now() + 5 * 86_400_000).toISOString(),
      },
    });
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: (text: string) => void (stdout += text),
      stderr: (text: string) => void (stderr += text),
      now: new Date(),
      env: { KUBECONFIG: api.kubeconfigPath },
    };
    const options = {
      exceptions: 'test/fixtures/no-such-exceptions.yaml',
      config: 'policies/guardrails.yaml',
      output: 'text' as const,
      namespace: 'prod-shop',
    };
    // KUBECONFIG is read by loadKubeConfig from the process environment, as kubectl does.
    const saved = process.env['KUBECONFIG'];
    process.env['KUBECONFIG'] = api.kubeconfigPath;
    try {
      t.equal(await runExceptionList(options, io), 0, stderr);
    } finally {
      if (saved === undefined) delete process.env['KUBECONFIG'];
      else process.env['KUBECONFIG'] = saved;
    }
    t.match(stdout, /vendor-egress +prod-shop +NP004/);
    t.match(
      stderr,
      /^netguard: read cluster https:\/\/127\.0\.0\.1:\d+ \(context [^)]+\), namespace prod-shop$/m,
    );
    stdout = '';
    stderr = '';
    t.equal(await runExceptionList(options, { ...io, env: {} }), 0);
    t.equal(stdout, 'No exceptions found.\n');
    t.match(
      stderr,
      'netguard: read file test/fixtures/no-such-exceptions.yaml, which does not exist (pass --cluster',
    );
  },
);
