import { UsageError } from '../../src/errors.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import t from 'tap';
import type { KubeObject } from '../../src/vocabulary.ts';
import { EXCEPTIONS_PATH } from '../../src/kube/exception-source.ts';
import { loadWorld } from '../../src/world.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import {
  requestOptionsSchema,
  runExceptionList,
  runExceptionRequest,
  type ExceptionIo,
} from '../../src/cli/exception.ts';
import { parseOptions } from '../../src/cli/options.ts';
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
  // Without tap's coverage hooks (NODE_OPTIONS), which would multiply each start-up time.
  run(process.execPath, ['src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: CliResult) => err,
  );

const policy = shippedPolicy();
const parseOptionsFor = (raw: Record<string, unknown>) => parseOptions(requestOptionsSchema, raw);
/** The NetworkPolicy the NP004 row of docs/rules.md shows as firing: world egress from prod-crawl. */
const crawlerPolicy = (): KubeObject =>
  parse(RULES_BY_ID.get('NP004')?.doc.fires ?? '') as KubeObject;

const WAIVER_FILE = 'test/fixtures/exceptions/crawler-egress.yaml';

t.test(
  'Done when: a file waiver admits the NP004 example with a warning until it expires',
  async (t) => {
    const { registry } = loadWorld({ config: 'policies/guardrails.yaml', exceptions: WAIVER_FILE });
    let now = new Date('2026-11-22T00:00:00Z');
    const webhook = await startWebhook(t, {
      context: () =>
        contextFor({ policy, waivers: registry.view(policy.exceptions.warnBeforeMs), now }),
    });

    const admitted = (await webhook.post('/validate', reviewFor(crawlerPolicy()))).json().response;
    t.equal(admitted.allowed, true);
    t.same(admitted.warnings, [
      'netguard NP004: spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach the internet (except 10.0.0.0/8) (waived by prod-crawl/crawler-egress until 2026-12-06 (14 days left))',
    ]);

    now = new Date('2026-12-06T00:00:01Z');
    const denied = (await webhook.post('/validate', reviewFor(crawlerPolicy()))).json().response;
    t.equal(denied.allowed, false);
    t.equal(denied.status.code, 403);
    t.equal(
      denied.status.message,
      [
        'NetworkPolicy prod-crawl/crawler-egress violates 1 guardrail (environment production, mode enforce):',
        '- NP004 world-egress at spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach the internet (except 10.0.0.0/8). Allow only the destinations they need (approved: none configured). (waiver prod-crawl/crawler-egress expired on 2026-12-06)',
        'Waiver prod-crawl/crawler-egress expired on 2026-12-06; the guardrail applies again, to updates too. Still needed? Extend its spec.expires in the exceptions file, by a reviewed change.',
      ].join('\n'),
    );
  },
);

t.test('Done when: netguard exception list shows a file waiver active, then expired', async (t) => {
  const header =
    'NAME             NAMESPACE    RULES   TARGET                         OWNER                    EXPIRES                DAYS LEFT   STATE';
  const before = await netguard(
    'exception',
    'list',
    '--exceptions',
    WAIVER_FILE,
    '--at',
    '2026-11-22T00:00:00Z',
  );
  t.equal(
    before.stdout,
    `${header}\ncrawler-egress   prod-crawl   NP004   networkpolicy/crawler-egress   team-crawl@example.com   2026-12-06T00:00:00Z   14          active\n`,
  );
  const after = await netguard(
    'exception',
    'list',
    '--exceptions',
    WAIVER_FILE,
    '--at',
    '2026-12-06T00:00:01Z',
  );
  const shipped = await netguard('exception', 'list');
  t.equal(shipped.stdout, 'No exceptions found.\n', 'the shipped file holds no waiver');
  t.equal(
    after.stdout,
    `${header}\ncrawler-egress   prod-crawl   NP004   networkpolicy/crawler-egress   team-crawl@example.com   2026-12-06T00:00:00Z   0           expired\n`,
  );
});

/** The same commands in-process (fast), clock injected. */
async function inProcess(run: (io: ExceptionIo) => Promise<number>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: ExceptionIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    now: new Date('2026-11-22T00:00:00Z'),
  };
  try {
    return { code: await run(io), stdout, stderr };
  } catch (err) {
    if (err instanceof UsageError) return { code: 2, stdout, stderr: `netguard: ${err.message}\n` };
    throw err;
  }
}

const LIST_DEFAULTS = {
  exceptions: WAIVER_FILE,
  config: 'policies/guardrails.yaml',
  output: 'table',
} as const;
const REQUEST = {
  namespace: 'prod-crawl',
  rule: 'NP004',
  target: 'networkpolicy/x',
  reason: 'r',
  owner: 'o',
  expires: '14d',
};

t.test("exception list: json, --state, and the file's states at an injected clock", async (t) => {
  const json = JSON.parse(
    (
      await inProcess((io) =>
        runExceptionList({ ...LIST_DEFAULTS, output: 'json', at: '2026-12-01T00:00:00Z' }, io),
      )
    ).stdout,
  );
  t.same(json.summary, { active: 0, expiring: 1, expired: 0, pending: 0 });
  t.equal(json.exceptions[0].daysLeft, 5);
  t.equal(json.exceptions[0].state, 'expiring');
  t.equal(
    (
      await inProcess((io) =>
        runExceptionList({ ...LIST_DEFAULTS, state: 'active', at: '2026-12-01T00:00:00Z' }, io),
      )
    ).stdout,
    'No exceptions found.\n',
  );
  t.equal(
    (await inProcess((io) => runExceptionList({ ...LIST_DEFAULTS, namespace: 'prod-other' }, io)))
      .stdout,
    'No exceptions found.\n',
  );
});

t.test('exception request prints YAML that EX rules accept; usage errors exit 2', async (t) => {
  const printed = await inProcess((io) =>
    runExceptionRequest(
      parseOptionsFor({
        namespace: 'prod-crawl',
        rule: 'np004',
        target: 'netpol/crawler-egress',
        reason: 'Vendor API has no fixed addresses',
        owner: 'team-crawl@example.com',
        expires: '2026-12-06',
        ticket: 'CRAWL-1234',
      }),
      io,
    ),
  );
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
  const selector = await inProcess((io) =>
    runExceptionRequest(
      { ...REQUEST, rule: 'POD002', target: undefined, selector: 'app=crawler' },
      io,
    ),
  );
  t.match(
    parse(selector.stdout),
    {
      spec: {
        target: { kind: 'Deployment', selector: { matchLabels: { app: 'crawler' } } },
        expires: '2026-12-06T00:00:00Z',
      },
    },
    '14d from the injected clock',
  );

  const placeholder = await inProcess((io) =>
    runExceptionRequest(parseOptionsFor({ ...REQUEST, reason: '...' }), io),
  );
  t.equal(placeholder.code, 2);
  t.equal(placeholder.stderr, 'netguard: --reason: replace the placeholder with the real reason\n');
  const unknown = await inProcess((io) => runExceptionRequest({ ...REQUEST, rule: 'NP999' }, io));
  t.equal(unknown.code, 2);
  t.match(
    unknown.stderr,
    /^netguard: --rule: unknown or unwaivable rule ID NP999 \(known: POD001, /,
  );
  const past = await inProcess((io) =>
    runExceptionRequest({ ...REQUEST, expires: '2020-01-01' }, io),
  );
  t.equal(past.stderr, 'netguard: --expires: 2020-01-01T00:00:00Z is not in the future\n');
  const both = await inProcess((io) => runExceptionRequest({ ...REQUEST, selector: 'app=x' }, io));
  t.equal(
    both.stderr,
    'netguard: --target/--selector: give --target KIND/NAME, or --target KIND with --selector key=value, not both\n',
  );
});

t.test(
  'exception request: a missing reason is asked for on a terminal, refused elsewhere; placeholders never pass',
  async (t) => {
    const { reason: _reason, ...noReason } = REQUEST;
    const refused = await inProcess((io) => runExceptionRequest(noReason, io));
    t.equal(refused.code, 2);
    t.equal(
      refused.stderr,
      'netguard: --reason: say why the guardrail cannot be met yet, e.g. --reason "vendor API has no fixed addresses until Q1"\n',
    );
    const questions: string[] = [];
    const asked = await inProcess((io) =>
      runExceptionRequest(noReason, {
        ...io,
        ask: async (question) => {
          questions.push(question);
          return 'Vendor API has no fixed addresses';
        },
      }),
    );
    t.equal(asked.code, 0);
    t.same(questions, ['Why is this waiver needed (what ends the need, and when)? ']);
    t.match(parse(asked.stdout), { spec: { reason: 'Vendor API has no fixed addresses' } });
    const placeholderAnswer = await inProcess((io) =>
      runExceptionRequest(noReason, { ...io, ask: async () => '<why this is needed>' }),
    );
    t.equal(
      placeholderAnswer.stderr,
      'netguard: --reason: replace the placeholder with the real reason\n',
    );
    for (const reason of ['<why this is needed>', '<reason>', 'TBD']) {
      const unchanged = await inProcess((io) =>
        runExceptionRequest(parseOptionsFor({ ...REQUEST, reason }), io),
      );
      t.equal(
        unchanged.stderr,
        'netguard: --reason: replace the placeholder with the real reason\n',
        reason,
      );
    }
    const { owner: _owner, ...noOwner } = REQUEST;
    const printed = await inProcess((io) => runExceptionRequest(noOwner, io));
    t.notOk(
      parse(printed.stdout).spec.owner,
      'no owner guessed offline: the webhook fills it in on apply',
    );
    t.match(
      printed.stderr,
      /add it to policies\/exceptions\.yaml by pull request with spec\.owner set/,
    );
  },
);

t.test(
  'exception request --apply creates it under a free name (against the fake API server); exception list reads the cluster',
  async (t) => {
    const api = await startFakeKubeApi(t);
    const apply = {
      kubeconfig: api.kubeconfigPath,
      apply: true,
      namespace: 'prod-crawl',
      rule: 'NP004',
      target: 'networkpolicy/crawler-egress',
      reason: 'Vendor API',
      owner: 'team-crawl@example.com',
      expires: '2099-01-01',
    };
    const applied = await inProcess((io) => runExceptionRequest(apply, io));
    t.equal(
      applied.stdout,
      'guardrailexception.netguard.dev/np004-crawler-egress created in namespace prod-crawl (owner team-crawl@example.com).\n' +
        'It is pending: it waives nothing until a member of the approver groups runs:\n  netguard exception approve -n prod-crawl np004-crawler-egress\n',
    );
    const [write] = api.writes();
    t.equal(write?.method, 'POST');
    t.equal(write?.path, '/apis/netguard.dev/v1alpha1/namespaces/prod-crawl/guardrailexceptions');
    t.match(api.get(EXCEPTIONS_PATH, 'prod-crawl', 'np004-crawler-egress'), {
      spec: { rules: ['NP004'], expires: '2099-01-01T00:00:00Z' },
    });

    const again = await inProcess((io) => runExceptionRequest(apply, io));
    t.equal(again.code, 0);
    t.match(
      again.stdout,
      /^guardrailexception\.netguard\.dev\/np004-crawler-egress-2 created/,
      'the taken name is skipped',
    );

    const named = await inProcess((io) =>
      runExceptionRequest({ ...apply, name: 'np004-crawler-egress' }, io),
    );
    t.equal(named.code, 1);
    t.match(
      named.stderr,
      /^netguard: cannot create GuardrailException prod-crawl\/np004-crawler-egress: Error from server \(AlreadyExists\): .*already exists\n/,
    );
    t.match(
      named.stderr,
      /leave out --name to get a free one, or renew it: netguard exception renew -n prod-crawl np004-crawler-egress --expires 2099-01-01\n$/,
    );

    const listed = await inProcess((io) =>
      runExceptionList(
        { ...LIST_DEFAULTS, kubeconfig: api.kubeconfigPath, allNamespaces: true, output: 'json' },
        io,
      ),
    );
    t.same(
      JSON.parse(listed.stdout).exceptions.map(
        (row: { name: string; state: string; source: string }) => [row.name, row.state, row.source],
      ),
      [
        ['np004-crawler-egress', 'rejected', 'cluster'],
        ['np004-crawler-egress-2', 'rejected', 'cluster'],
      ],
      'a 2099 expiry in production (14d) is listed as rejected, not pending',
    );
    t.match(JSON.parse(listed.stdout).exceptions[0].rejectedBecause, [
      /^EX001 spec\.expires: 2099-01-01T00:00:00Z is \d+ days away; environment production allows at most 14d$/,
    ]);
    const here = await inProcess((io) =>
      runExceptionList({ ...LIST_DEFAULTS, kubeconfig: api.kubeconfigPath }, io),
    );
    t.equal(
      here.stdout,
      "No exceptions found in namespace default (the context's namespace). Use -A for every namespace, or -n NAME.\n",
    );
  },
);
