import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import t from 'tap';
import type { KubeObject } from '../../src/engine/types.ts';
import { EXCEPTIONS_PATH } from '../../src/exceptions/cluster-source.ts';
import { loadFileRegistry } from '../../src/exceptions/file-source.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

const run = promisify(execFile);
interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
const netguard = (...args: string[]): Promise<CliResult> =>
  run(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8' }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: CliResult) => err,
  );

const policy = shippedPolicy();
/** The NetworkPolicy the NP004 row of docs/rules.md shows as firing: world egress from prod-crawl. */
const crawlerPolicy = (): KubeObject => parse(RULES_BY_ID.get('NP004')?.doc.fires ?? '') as KubeObject;

t.test('Done when: the shipped waiver admits the NP004 example with a warning until it expires', async (t) => {
  const registry = loadFileRegistry('policies/exceptions.yaml');
  let now = new Date('2026-11-22T00:00:00Z');
  const webhook = await startWebhook(t, { context: () => contextFor({ policy, waivers: registry.view(policy.exceptions.warnBeforeMs), now }) });

  const admitted = (await webhook.post('/validate', reviewFor(crawlerPolicy()))).json().response;
  t.equal(admitted.allowed, true);
  t.same(admitted.warnings, [
    'netguard NP004: spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address on the internet (waived by prod-crawl/crawler-egress until 2026-12-06 (14 days left))',
  ]);

  now = new Date('2026-12-06T00:00:01Z');
  const denied = (await webhook.post('/validate', reviewFor(crawlerPolicy()))).json().response;
  t.equal(denied.allowed, false);
  t.equal(denied.status.code, 403);
  t.equal(
    denied.status.message,
    [
      'NetworkPolicy prod-crawl/crawler-egress violates 1 guardrail (environment production, mode enforce):',
      '- NP004 world-egress at spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address on the internet. Allow only the destinations they need (approved: 160.79.104.0/23). (waiver prod-crawl/crawler-egress expired on 2026-12-06)',
      'Need more time? netguard exception request -n prod-crawl --rule NP004 --target networkpolicy/crawler-egress --reason "..." --expires 14d',
    ].join('\n'),
  );
});

t.test('Done when: netguard exception list shows the shipped waiver active, then expired', async (t) => {
  const header = 'NAME             NAMESPACE    RULES   TARGET                         OWNER                    EXPIRES                DAYS LEFT   STATE';
  const before = await netguard('exception', 'list', '--at', '2026-11-22T00:00:00Z');
  t.equal(before.stdout, `${header}\ncrawler-egress   prod-crawl   NP004   networkpolicy/crawler-egress   team-crawl@example.com   2026-12-06T00:00:00Z   14          active\n`);
  const after = await netguard('exception', 'list', '--at', '2026-12-06T00:00:01Z');
  t.equal(after.stdout, `${header}\ncrawler-egress   prod-crawl   NP004   networkpolicy/crawler-egress   team-crawl@example.com   2026-12-06T00:00:00Z   0           expired\n`);
  const json = JSON.parse((await netguard('exception', 'list', '--at', '2026-12-01T00:00:00Z', '--output', 'json')).stdout);
  t.same(json.summary, { active: 0, expiring: 1, expired: 0, pending: 0 });
  t.equal(json.exceptions[0].daysLeft, 5);
  t.equal((await netguard('exception', 'list', '--at', '2026-12-01T00:00:00Z', '--state', 'active')).stdout, 'No exceptions found.\n');
});

t.test('exception request prints YAML that EX rules accept; usage errors exit 2', async (t) => {
  const printed = await netguard('exception', 'request', '-n', 'prod-crawl', '--rule', 'np004', '--target', 'netpol/crawler-egress', '--reason', 'Vendor API has no fixed addresses', '--owner', 'team-crawl@example.com', '--expires', '2026-12-06', '--ticket', 'CRAWL-1234');
  t.equal(
    printed.stdout,
    [
      'apiVersion: netguard.dev/v1alpha1',
      'kind: GuardrailException',
      'metadata:',
      '  name: np004-crawler-egress',
      '  namespace: prod-crawl',
      'spec:',
      '  rules:',
      '    - NP004',
      '  target:',
      '    kind: NetworkPolicy',
      '    name: crawler-egress',
      '  reason: Vendor API has no fixed addresses',
      '  owner: team-crawl@example.com',
      '  ticket: CRAWL-1234',
      '  expires: "2026-12-06T00:00:00Z"',
      '',
    ].join('\n'),
  );
  const selector = await netguard('exception', 'request', '-n', 'prod-crawl', '--rule', 'POD002', '--selector', 'app=crawler', '--reason', 'r', '--owner', 'o', '--expires', '2099-01-01');
  t.match(parse(selector.stdout), { spec: { target: { kind: 'Deployment', selector: { matchLabels: { app: 'crawler' } } } } });

  const placeholder = await netguard('exception', 'request', '-n', 'prod-crawl', '--rule', 'NP004', '--target', 'networkpolicy/x', '--reason', '...', '--owner', 'o', '--expires', '14d');
  t.equal(placeholder.code, 2);
  t.equal(placeholder.stderr, 'netguard: --reason: replace the placeholder with the real reason\n');
  const unknown = await netguard('exception', 'request', '-n', 'prod-crawl', '--rule', 'NP999', '--target', 'networkpolicy/x', '--reason', 'r', '--owner', 'o', '--expires', '14d');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^netguard: --rule: unknown or unwaivable rule ID NP999 \(known: POD001, /);
  const past = await netguard('exception', 'request', '-n', 'prod-crawl', '--rule', 'NP004', '--target', 'networkpolicy/x', '--reason', 'r', '--owner', 'o', '--expires', '2020-01-01');
  t.equal(past.stderr, 'netguard: --expires: 2020-01-01T00:00:00Z is not in the future\n');
});

t.test('exception request --apply creates it with client-node; exception list reads the cluster', async (t) => {
  const api = await startFakeKubeApi(t);
  const applied = await netguard('exception', 'request', '--kubeconfig', api.kubeconfigPath, '--apply', '-n', 'prod-crawl', '--rule', 'NP004', '--target', 'networkpolicy/crawler-egress', '--reason', 'Vendor API', '--owner', 'team-crawl@example.com', '--expires', '2099-01-01');
  t.equal(applied.stdout, 'guardrailexception.netguard.dev/np004-crawler-egress created in namespace prod-crawl; it waives nothing until a member of the approver groups sets spec.approvedBy (kubectl -n prod-crawl edit gex np004-crawler-egress)\n');
  const [write] = api.writes();
  t.equal(write?.method, 'POST');
  t.equal(write?.path, '/apis/netguard.dev/v1alpha1/namespaces/prod-crawl/guardrailexceptions');
  t.match(api.get(EXCEPTIONS_PATH, 'prod-crawl', 'np004-crawler-egress'), { spec: { rules: ['NP004'], expires: '2099-01-01T00:00:00Z' } });

  const again = await netguard('exception', 'request', '--kubeconfig', api.kubeconfigPath, '--apply', '-n', 'prod-crawl', '--rule', 'NP004', '--target', 'networkpolicy/crawler-egress', '--reason', 'Vendor API', '--owner', 'team-crawl@example.com', '--expires', '2099-01-01');
  t.equal(again.code, 1);
  t.match(again.stderr, /^netguard: cannot create GuardrailException prod-crawl\/np004-crawler-egress: HTTP 409: .*already exists/);

  const listed = await netguard('exception', 'list', '--kubeconfig', api.kubeconfigPath, '-A', '--at', '2098-01-01T00:00:00Z', '-o', 'json');
  t.same(
    JSON.parse(listed.stdout).exceptions.map((row: { name: string; state: string; source: string }) => [row.name, row.state, row.source]),
    [['np004-crawler-egress', 'pending', 'cluster']],
  );
});
