import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { schemaValidator } from '../helpers/json-schema.ts';
import { FIXTURES } from './run-cli.ts';
import { runCheckInProcess as check } from './run-check.ts';

interface SarifResult {
  ruleId: string;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
  }[];
}

const validSarif = schemaValidator('test/fixtures/schemas/sarif-2.1.0-rtm.5.json');

t.test(
  'SARIF 2.1.0: valid against the SARIF schema, one result per finding with file and line',
  async (t) => {
    const run = await check([
      '-f',
      `${FIXTURES}/denied.yaml`,
      '-f',
      `${FIXTURES}/broken.yaml`,
      '-o',
      'sarif',
    ]);
    t.equal(run.code, 2, 'input errors still decide the exit code');
    const sarif = run.json();
    t.ok(validSarif(sarif), JSON.stringify(validSarif.errors?.slice(0, 3)));
    t.equal(sarif.version, '2.1.0');
    const [only] = sarif.runs;
    t.equal(only.tool.driver.name, 'netguard');
    t.ok(
      only.tool.driver.rules.some(
        (rule: { id: string; name: string }) => rule.id === 'NP004' && rule.name === 'world-egress',
      ),
    );
    const results: SarifResult[] = only.results;
    t.same(
      results.map((r) => [
        r.ruleId,
        r.level,
        r.locations[0]?.physicalLocation.artifactLocation.uri,
        r.locations[0]?.physicalLocation.region.startLine,
      ]),
      [
        ['NP004', 'error', 'test/fixtures/check/denied.yaml', 8],
        ['NP007', 'warning', 'test/fixtures/check/denied.yaml', 19],
      ],
    );
    t.match(
      results[0]?.message.text,
      'NetworkPolicy prod-crawl/egress-anywhere at spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address',
    );
    const notes = only.invocations[0].toolExecutionNotifications.map(
      (n: {
        message: { text: string };
        level: string;
        locations?: { physicalLocation: { region?: { startLine: number } } }[];
      }) => [n.level, n.locations?.[0]?.physicalLocation.region?.startLine, n.message.text],
    );
    t.match(notes, [
      ['error', 13, /broken\.yaml: document 2: not valid YAML/],
      ['error', 15, /document 3: NetworkPolicy spec\.ingress\[0\]\.ports\[0\]\.endPort/],
    ]);
    t.equal(only.invocations[0].executionSuccessful, false);
    t.match(only.properties.policy, /bundled with netguard/);
    t.notOk(validSarif({ ...sarif, version: '2.0.0' }), 'the schema check can fail');
    t.notOk(
      validSarif({ ...sarif, runs: [{ ...only, results: [{ ...results[0], level: 'fatal' }] }] }),
      'a bad level is caught',
    );
  },
);

/** XML parsed by a real parser (Python's ElementTree), summarised as JSON. */
function parseJunit(text: string): unknown {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
out = {"tag": root.tag, "attrs": root.attrib, "suites": []}
for s in root.findall("testsuite"):
    out["suites"].append({"attrs": s.attrib, "properties": {p.get("name"): p.get("value") for p in s.iter("property")},
      "cases": [{"attrs": c.attrib, "failure": (c.find("failure").attrib | {"text": c.find("failure").text}) if c.find("failure") is not None else None,
                 "error": c.find("error").attrib if c.find("error") is not None else None,
                 "out": c.findtext("system-out")} for c in s.findall("testcase")]})
print(json.dumps(out))`;
  const run = spawnSync('python3', ['-c', script], { input: text, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

t.test(
  'JUnit XML (gitlab flavour): one suite per file, a denial is a failure naming rules, file and line',
  {
    skip:
      spawnSync('python3', ['--version']).error === undefined
        ? false
        : 'python3 not installed (needed to parse XML)',
  },
  async (t) => {
    const run = await check([
      '-f',
      `${FIXTURES}/denied.yaml`,
      '-f',
      `${FIXTURES}/broken.yaml`,
      '-o',
      'junit',
      '--junit-flavor',
      'gitlab',
    ]);
    t.equal(run.code, 2);
    t.match(
      run.stdout,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="netguard check" tests="6" failures="1" errors="2">/,
    );
    const junit = parseJunit(run.stdout) as {
      suites: {
        attrs: Record<string, string>;
        properties: Record<string, string>;
        cases: {
          attrs: Record<string, string>;
          failure: Record<string, string> | null;
          error: Record<string, string> | null;
          out: string | null;
        }[];
      }[];
    };
    t.equal(junit.suites.length, 2, 'one suite per input file, no empty suite before them');
    const [denied, broken] = junit.suites;
    t.match(denied?.properties.policy, /bundled with netguard/);
    t.match(broken?.properties.policy, /bundled with netguard/);
    t.same(denied?.attrs, {
      name: 'test/fixtures/check/denied.yaml',
      tests: '2',
      failures: '1',
      errors: '0',
      skipped: '0',
    });
    const [egress, metrics] = denied?.cases ?? [];
    t.same(egress?.attrs, {
      classname: 'netguard.NetworkPolicy',
      name: 'NetworkPolicy prod-crawl/egress-anywhere',
      file: 'test/fixtures/check/denied.yaml',
      line: '1',
    });
    t.equal(egress?.failure?.['type'], 'NP004');
    t.equal(
      egress?.failure?.['message'],
      'NetworkPolicy prod-crawl/egress-anywhere would be denied (production, enforce): NP004',
    );
    t.match(
      egress?.failure?.['text'],
      'deny NP004 world-egress at spec.egress[0].to[0].ipBlock.cidr (test/fixtures/check/denied.yaml:8): 0.0.0.0/0 lets',
    );
    t.equal(metrics?.failure, null, 'a warning is not a failure');
    t.match(
      metrics?.out,
      'warn NP007 and-or-confusion at spec.ingress[0].from (test/fixtures/check/denied.yaml:19)',
    );
    t.same(broken?.attrs, {
      name: 'test/fixtures/check/broken.yaml',
      tests: '4',
      failures: '0',
      errors: '2',
      skipped: '0',
    });
    t.same(
      broken?.cases
        .filter((c) => c.error !== null)
        .map((c) => [c.attrs['line'], c.error?.['type']]),
      [
        ['13', 'InputError'],
        ['15', 'InputError'],
      ],
    );
  },
);

t.test(
  'JUnit: hostile names are escaped, the XML stays well-formed',
  {
    skip: spawnSync('python3', ['--version']).error === undefined ? false : 'python3 not installed',
  },
  async (t) => {
    const hostile =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: "a<b>&\\"c\\u0001", namespace: prod-x}\nspec: {containers: [{name: c, image: i}]}\n';
    const run = await check(['-f', '-', '-o', 'junit'], { stdin: hostile });
    const junit = parseJunit(run.stdout) as {
      suites: { cases: { attrs: Record<string, string> }[] }[];
    };
    t.equal(junit.suites[0]?.cases[0]?.attrs['name'], 'Pod prod-x/a<b>&"c ');
  },
);

t.test('GitHub Actions: one ::error/::warning per finding with file, line and title', async (t) => {
  const run = await check(['-f', `${FIXTURES}/denied.yaml`, '-o', 'github']);
  t.equal(run.code, 1);
  const lines = run.stdout.trim().split('\n');
  t.match(lines[0], /^netguard check: policy .*bundled with netguard/);
  t.equal(
    lines[1],
    '::error file=test/fixtures/check/denied.yaml,line=8,title=netguard NP004 world-egress::NetworkPolicy prod-crawl/egress-anywhere at spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address on the internet. Allow only the destinations they need (approved: none configured).',
  );
  t.match(
    lines[2],
    /^::warning file=test\/fixtures\/check\/denied\.yaml,line=19,title=netguard NP007 and-or-confusion::NetworkPolicy prod-crawl\/metrics/,
  );
  t.equal(lines[3], 'netguard check: 2 objects: 1 denied, 1 admitted with warnings, 0 admitted');
  t.equal(lines.length, 4);
});

t.test(
  'GitHub Actions: newlines, % and property separators cannot forge a second command',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-gh-'));
    const file = join(dir, 'a,b:c.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: "x\\n::error::forged 100%", namespace: prod-x}\nspec: {containers: [{name: c, image: i}]}\n',
    );
    const run = await check(['-f', file, '-o', 'github']);
    const annotations = run.stdout.split('\n').filter((line) => line.startsWith('::'));
    t.equal(annotations.length, 2, 'POD001 and POD002 only; nothing forged');
    t.match(annotations[0], /file=[^,]*a%2Cb%3Ac\.yaml,line=3,/);
    t.match(annotations[0], 'Pod prod-x/x%0A::error::forged 100%25');
  },
);

t.test('-o yaml is the -o json document', async (t) => {
  const json = (await check(['-f', `${FIXTURES}/denied.yaml`, '-o', 'json'])).json();
  const yaml = await check(['-f', `${FIXTURES}/denied.yaml`, '-o', 'yaml']);
  t.equal(yaml.code, 1);
  t.same(parse(yaml.stdout), json);
});

const manifest =
  'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}, policyTypes: [Egress]}\n';

t.test(
  'a guessed environment is said loudly: no namespace, or a namespace no environment claims',
  async (t) => {
    const guessed = await check(['-f', '-'], { stdin: manifest });
    t.equal(
      guessed.code,
      0,
      'the default environment observes: it passes, which is why the warning is loud',
    );
    t.match(
      guessed.stderr,
      /^!{78}\n!! WARNING: 1 object names no namespace and no --namespace was given: judged in namespace "default"\.\n/,
    );
    t.match(
      guessed.stderr,
      '!! WARNING: namespace "default" matches no environment of the policy (no netguard.dev/environment label, selector or name pattern): 1 object judged in the default environment development (observe), which never denies. Pass --environment NAME, or --namespace with the real namespace.',
    );
    const unknown = await check(['-f', '-', '-n', 'payments'], { stdin: manifest });
    t.notMatch(unknown.stderr, /names no namespace/);
    t.match(unknown.stderr, 'namespace "payments" matches no environment');
    for (const args of [
      ['-n', 'prod-payments'],
      ['--environment', 'production'],
    ]) {
      const placed = await check(['-f', '-', ...args], { stdin: manifest });
      t.equal(placed.stderr, '', args.join(' '));
      t.equal(placed.code, 1, `${args.join(' ')}: judged in production, NP001 denies`);
    }
    const github = await check(['-f', '-', '-o', 'github'], { stdin: manifest });
    t.match(
      github.stdout,
      /^::warning title=netguard%3A environment guessed::1 object names no namespace/m,
    );
  },
);

t.test(
  'a kustomization: rendered with kubectl kustomize when present, and said so',
  {
    skip:
      spawnSync('kubectl', ['version', '--client']).error === undefined
        ? false
        : 'kubectl not installed',
  },
  async (t) => {
    const run = await check(['-f', `${FIXTURES}/kustomize`, '-o', 'json']);
    t.equal(run.code, 1, run.stderr);
    t.match(
      run.stderr,
      'netguard: test/fixtures/check/kustomize: kustomization rendered with kubectl kustomize (2 objects)',
    );
    const results = run.json().results;
    t.same(
      results.map((r: { namespace: string; name: string; file: string; verdict: string }) => [
        r.namespace,
        r.name,
        r.file,
        r.verdict,
      ]),
      [
        [
          'prod-app',
          'shop-default-deny',
          'test/fixtures/check/kustomize/base/deny-all.yaml',
          'denied',
        ],
        ['prod-app', 'shop-egress-anywhere', 'test/fixtures/check/kustomize/egress.yaml', 'denied'],
      ],
      'namespace and prefix applied; each object points at the file it came from',
    );
    t.equal(results[1].findings[0].line, 10, 'lines come from the source file');
  },
);

t.test(
  'a kustomization without kubectl fails closed with the one-line alternative; a kustomize failure shows its error',
  async (t) => {
    const run = await check(['-f', `${FIXTURES}/kustomize`, '-o', 'json'], {
      kubectl: '/nonexistent/kubectl',
    });
    t.equal(run.code, 2, 'never judged as written (its namespace would be dropped)');
    t.same(run.json().results, [], 'nothing judged');
    t.match(
      run.stderr,
      'netguard: test/fixtures/check/kustomize/kustomization.yaml: a kustomization, and kubectl is not on PATH to render it',
    );
    t.match(
      run.stderr,
      'kubectl kustomize test/fixtures/check/kustomize | netguard check -f -',
      'the one-line alternative',
    );
    const failing = await check(['-f', `${FIXTURES}/kustomize`], { kubectl: 'false' });
    t.equal(failing.code, 2, 'kubectl present but failing is an input error');
    t.match(failing.stderr, /kustomization\.yaml: kubectl kustomize failed/);
  },
);

t.test(
  'outside a checkout: --config defaults to the policy bundled with the package (real process)',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-elsewhere-'));
    writeFileSync(
      join(dir, 'np.yaml'),
      manifest.replace('{name: x}', '{name: x, namespace: prod-a}'),
    );
    const run = spawnSync(
      process.execPath,
      [resolve('src/cli/main.ts'), 'check', '-f', 'np.yaml'],
      { cwd: dir, encoding: 'utf8' },
    );
    t.equal(run.status, 1, run.stderr);
    t.match(run.stdout, `Policy: ${resolve('policies/guardrails.yaml')} (bundled with netguard`);
    t.match(
      run.stdout,
      /^DENIED +NetworkPolicy prod-a\/x \(production, enforce\) {2}np\.yaml: document 1, line 1$/m,
    );
  },
);
