import { readFileSync } from 'node:fs';
import t from 'tap';
import { validateXML } from 'xmllint-wasm';
import { FIXTURES } from './run-cli.ts';
import { runCheckInProcess as check } from './run-check.ts';

/** Jenkins xUnit's junit-10.xsd, vendored unchanged (its source is noted in the file). */
const JENKINS_XSD = readFileSync('test/fixtures/schemas/junit-10.xsd', 'utf8');
/**
 * GitLab publishes no schema; it reads junit-10's shape plus `file` (and `line`) on <testcase> to
 * link a failure to its file. Its schema here: junit-10 with those two testcase attributes added.
 */
const GITLAB_XSD = JENKINS_XSD.replace(
  '<xs:attribute name="group" type="xs:string"/>\n        </xs:complexType>\n    </xs:element>\n\n    <xs:element name="testsuite">',
  '<xs:attribute name="group" type="xs:string"/>\n            <xs:attribute name="file" type="xs:string"/>\n            <xs:attribute name="line" type="xs:string"/>\n        </xs:complexType>\n    </xs:element>\n\n    <xs:element name="testsuite">',
);

async function errorsAgainst(xsd: string, xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'report.xml', contents: xml }],
    schema: [{ fileName: 'schema.xsd', contents: xsd }],
  });
  return result.errors.map((error) => error.rawMessage);
}

const INPUTS = ['-f', `${FIXTURES}/denied.yaml`, '-f', `${FIXTURES}/broken.yaml`, '-o', 'junit'];

t.test(
  'JUnit, default (jenkins) flavour: valid against junit-10.xsd, file on each testsuite',
  async (t) => {
    t.not(GITLAB_XSD, JENKINS_XSD, 'the gitlab schema really adds the testcase attributes');
    const run = await check(INPUTS);
    t.same(await errorsAgainst(JENKINS_XSD, run.stdout), []);
    t.match(
      run.stdout,
      `<testsuite name="${FIXTURES}/denied.yaml" tests="2" failures="1" errors="0" skipped="0" file="${FIXTURES}/denied.yaml">`,
    );
    t.notMatch(run.stdout, /<testcase [^>]*file=/, 'no file on testcases');
    t.notMatch(run.stdout, /tests="0"/, 'no empty suite');
  },
);

t.test(
  'JUnit, gitlab flavour: testcase@file and @line, valid against junit-10 plus those',
  async (t) => {
    const run = await check([...INPUTS, '--junit-flavor', 'gitlab']);
    t.same(await errorsAgainst(GITLAB_XSD, run.stdout), []);
    t.match(
      run.stdout,
      `<testcase classname="netguard.NetworkPolicy" name="NetworkPolicy prod-crawl/egress-anywhere" file="${FIXTURES}/denied.yaml" line="1">`,
    );
    const strict = await errorsAgainst(JENKINS_XSD, run.stdout);
    t.match(strict.join('\n'), /attribute 'file' is not allowed/, 'the Jenkins schema can fail');
  },
);

interface SarifResult {
  ruleId: string;
  message: { text: string };
  partialFingerprints: Record<string, string>;
}

async function sarifResults(args: readonly string[], stdin?: string): Promise<SarifResult[]> {
  const run = await check([...args, '-o', 'sarif'], stdin === undefined ? {} : { stdin });
  return run.json().runs[0].results;
}

const fingerprintOf = (result: SarifResult | undefined): string =>
  result?.partialFingerprints['netguardFinding/v2'] ?? '';

t.test(
  'SARIF: two findings on one field get distinct fingerprints, stable across runs and moves',
  async (t) => {
    const file = `${FIXTURES}/two-missing-labels.yaml`;
    const first = await sarifResults(['-f', file]);
    const pod001 = first.filter((result) => result.ruleId === 'POD001');
    t.equal(pod001.length, 2, 'app and tier are both missing');
    t.not(fingerprintOf(pod001[0]), fingerprintOf(pod001[1]), 'distinct per finding');
    const again = await sarifResults(['-f', file]);
    t.same(again.map(fingerprintOf), first.map(fingerprintOf), 'stable across runs');
    const moved = await sarifResults(
      ['-f', '-'],
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first, namespace: prod-shop}\n---\n${readFileSync(file, 'utf8')}`,
    );
    t.same(
      moved.filter((result) => result.ruleId === 'POD001').map(fingerprintOf),
      pod001.map(fingerprintOf),
      'moving the object down its file keeps its fingerprints',
    );
    const renamed = await sarifResults(
      ['-f', '-'],
      readFileSync(file, 'utf8').replace('name: api,', 'name: web,'),
    );
    t.not(
      fingerprintOf(renamed[0]),
      fingerprintOf(first[0]),
      'another object, another fingerprint',
    );
  },
);
