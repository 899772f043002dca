import { readFileSync } from 'node:fs';
import t from 'tap';
import { FIXTURES, runCli } from './run-cli.ts';
import { runCheckInProcess } from './run-check.ts';

// Most cases run in-process (runCheckInProcess: the same commander definition, runCheck and exit
// codes); the first two are real-process smoke tests of the binary, stdin and TTY detection.
const check = (args: readonly string[], options: { stdin?: string } = {}) =>
  runCheckInProcess(args.slice(1), options);

t.test('all admitted: exit 0, one line per object, a summary (real process)', async (t) => {
  const run = runCli(['check', '-f', `${FIXTURES}/admitted.yaml`]);
  t.equal(run.code, 0, run.stderr);
  t.match(
    run.stdout,
    /^OK +Namespace prod-shop \(production, enforce\) {2}test\/fixtures\/check\/admitted\.yaml: document 1, line 2$/m,
  );
  t.match(run.stdout, /^OK +NetworkPolicy prod-shop\/api-allow-web \(production, enforce\)/m);
  t.match(run.stdout, /^OK +ConfigMap prod-shop\/settings/m);
  t.match(run.stdout, /^3 objects: 0 denied, 0 admitted with warnings, 3 admitted$/m);
  t.notMatch(run.stdout, /\u001b\[/, 'no colour when stdout is not a TTY');
  t.equal(run.stderr, '');
});

t.test('something denied: exit 1, the JSON shape of DESIGN.md', async (t) => {
  const run = await check(['check', '-f', `${FIXTURES}/denied.yaml`, '--output', 'json']);
  t.equal(run.code, 1, run.stderr);
  const report = run.json();
  t.same(Object.keys(report), ['results', 'summary', 'policy']);
  t.match(
    report.policy,
    /policies\/guardrails\.yaml \(bundled with netguard \d+\.\d+\.\d+; pass --config to use your own\)$/,
  );
  t.same(report.summary, { objects: 2, denied: 1, warned: 1 });
  t.same(report.results[0], {
    file: 'test/fixtures/check/denied.yaml',
    line: 1,
    kind: 'NetworkPolicy',
    namespace: 'prod-crawl',
    name: 'egress-anywhere',
    environment: 'production',
    mode: 'enforce',
    verdict: 'denied',
    findings: [
      {
        rule: 'NP004',
        level: 'deny',
        path: 'spec.egress[0].to[0].ipBlock.cidr',
        line: 8,
        message:
          '0.0.0.0/0 lets these pods reach any address on the internet. Allow only the destinations they need (approved: none configured).',
      },
    ],
  });
  t.equal(report.results[1].verdict, 'allowed');
  t.same(
    report.results[1].findings.map(
      (f: { rule: string; level: string; path: string; line: number }) => [
        f.rule,
        f.level,
        f.path,
        f.line,
      ],
    ),
    [['NP007', 'warn', 'spec.ingress[0].from', 19]],
  );
  t.equal(report.results[1].line, 12, 'document 2 starts on line 12');
});

t.test(
  'text output names each finding, its path and line, the fix and the exception command',
  async (t) => {
    const run = await check(['check', '-f', `${FIXTURES}/denied.yaml`]);
    t.equal(run.code, 1);
    t.match(run.stdout, /^Policy: .*policies\/guardrails\.yaml \(bundled with netguard /);
    t.match(
      run.stdout,
      /^DENIED +NetworkPolicy prod-crawl\/egress-anywhere \(production, enforce\) {2}test\/fixtures\/check\/denied\.yaml: document 1, line 1$/m,
    );
    t.match(
      run.stdout,
      '  deny NP004 world-egress at spec.egress[0].to[0].ipBlock.cidr (line 8)\n       0.0.0.0/0 lets these pods reach any address on the internet. Allow only the destinations they need (approved: none configured).',
    );
    t.match(
      run.stdout,
      'Need more time? netguard exception request -n prod-crawl --rule NP004 --target networkpolicy/egress-anywhere --expires 14d --reason "<why this is needed>" --apply',
    );
    t.match(run.stdout, /^WARNED +NetworkPolicy prod-crawl\/metrics/m);
    t.match(run.stdout, /^2 objects: 1 denied, 1 admitted with warnings, 0 admitted$/m);
  },
);

t.test('stdin with -f - (real process)', async (t) => {
  const run = runCli(['check', '-f', '-', '-o', 'json'], {
    stdin: readFileSync(`${FIXTURES}/denied.yaml`, 'utf8'),
  });
  t.equal(run.code, 1, run.stderr);
  t.same(
    run.json().results.map((r: { name: string; verdict: string }) => [r.name, r.verdict]),
    [
      ['egress-anywhere', 'denied'],
      ['metrics', 'allowed'],
    ],
  );
  const plain = runCli(['check', '-f', '-'], {
    stdin: readFileSync(`${FIXTURES}/admitted.yaml`, 'utf8'),
  });
  t.equal(plain.code, 0);
  t.match(plain.stdout, '<stdin>: document 2');
});

t.test('a directory: recursive, .yaml/.yml/.json only, List items judged one by one', async (t) => {
  const run = await check(['check', '-f', `${FIXTURES}/tree`, '-o', 'json']);
  t.equal(run.code, 1, run.stderr);
  const results = run.json().results;
  t.same(
    results.map((r: { namespace: string; name: string; environment: string; verdict: string }) => [
      r.namespace,
      r.name,
      r.environment,
      r.verdict,
    ]),
    [
      ['staging-a', 'default-deny-ingress', 'staging', 'allowed'],
      ['staging-b', 'allow-all-ingress', 'staging', 'denied'],
      ['staging-b', 'default-deny-ingress', 'staging', 'allowed'],
    ],
  );
  const text = await check(['check', '-f', `${FIXTURES}/tree`]);
  t.match(text.stdout, 'test/fixtures/check/tree/team-b/list.json: document 1, items[0]');
});

t.test('several paths in one run, -f repeated', async (t) => {
  const run = await check([
    'check',
    '-f',
    `${FIXTURES}/admitted.yaml`,
    '-f',
    `${FIXTURES}/denied.yaml`,
    '-o',
    'json',
  ]);
  t.equal(run.code, 1);
  t.equal(run.json().summary.objects, 5);
});

t.test(
  'a broken document among good ones: exit 2, the error names file, document and problem, the rest are judged',
  async (t) => {
    const run = await check([
      'check',
      '-f',
      `${FIXTURES}/broken.yaml`,
      '-f',
      `${FIXTURES}/denied.yaml`,
      '-o',
      'json',
    ]);
    t.equal(run.code, 2, 'input errors win over denials');
    const names = run.json().results.map((r: { name: string }) => r.name);
    t.same(names, ['good-before', 'good-after', 'egress-anywhere', 'metrics']);
    const lines = run.stderr.trim().split('\n');
    t.equal(lines.length, 2, run.stderr);
    t.match(
      lines[0],
      /^netguard: test\/fixtures\/check\/broken\.yaml: document 2: not valid YAML: /,
    );
    t.match(
      lines[1],
      /^netguard: test\/fixtures\/check\/broken\.yaml: document 3: NetworkPolicy spec\.ingress\[0\]\.ports\[0\]\.endPort: /,
    );
    const text = await check(['check', '-f', `${FIXTURES}/broken.yaml`]);
    t.equal(text.code, 2);
    t.match(
      text.stdout,
      /^2 objects: 0 denied, 0 admitted with warnings, 2 admitted; 2 input errors \(see stderr\)$/m,
    );
  },
);

t.test('Namespaces in the input supply labels and annotations', async (t) => {
  const run = await check(['check', '-f', `${FIXTURES}/namespace-labels.yaml`, '-o', 'json']);
  t.equal(run.code, 1, run.stderr);
  const policy = run.json().results[1];
  t.equal(policy.environment, 'production', 'env=prod label matches the production selector');
  t.same(
    policy.findings.map((f: { rule: string }) => f.rule),
    ['NP004'],
    'allow-dns annotation satisfies NP001; a public block is not said to be maybe pods',
  );
});

t.test('--environment forces one environment for every object', async (t) => {
  const run = await check([
    'check',
    '-f',
    `${FIXTURES}/denied.yaml`,
    '--environment',
    'development',
    '-o',
    'json',
  ]);
  t.equal(run.code, 0);
  t.same(
    run
      .json()
      .results.map((r: { environment: string; mode: string; verdict: string }) => [
        r.environment,
        r.mode,
        r.verdict,
      ]),
    [
      ['development', 'observe', 'allowed'],
      ['development', 'observe', 'allowed'],
    ],
  );
});

t.test('objects without a namespace land in --namespace (default "default")', async (t) => {
  const manifest =
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n';
  t.equal(
    (await check(['check', '-f', '-', '-o', 'json'], { stdin: manifest })).json().results[0]
      .namespace,
    'default',
  );
  t.equal(
    (await check(['check', '-f', '-', '-o', 'json', '-n', 'prod-x'], { stdin: manifest })).json()
      .results[0].environment,
    'production',
  );
});

t.test('usage and input errors exit 2 with a message', async (t) => {
  const cases: [string[], RegExp][] = [
    [['check'], /--filename/],
    [
      ['check', '-f', `${FIXTURES}/denied.yaml`, '--output', 'xml'],
      /--output: .*"text"\|"json"\|"yaml"\|"sarif"\|"junit"\|"github"/,
    ],
    [
      ['check', '-f', `${FIXTURES}/denied.yaml`, '--bogus'],
      /^error: unknown option '--bogus'\nUsage: netguard check \[options\]\nRun "netguard check --help" for details\.\n$/,
    ],
    [
      ['check', '-f', `${FIXTURES}/denied.yaml`, '--environment', 'qa'],
      /--environment: unknown environment "qa" \(known: development, staging, production\)/,
    ],
    [
      ['check', '-f', `${FIXTURES}/does-not-exist.yaml`],
      /does-not-exist\.yaml: cannot read: ENOENT/,
    ],
    [
      ['check', '-f', `${FIXTURES}/denied.yaml`, '--config', `${FIXTURES}/missing-policy.yaml`],
      /missing-policy\.yaml: cannot read: ENOENT/,
    ],
  ];
  for (const [args, message] of cases) {
    const run = await check(args);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, message, args.join(' '));
    t.notMatch(run.stderr, /Options:/, 'the usage line, never the whole help');
  }
});
