/**
 * Issue 24, item 4: an approver's terminal cannot be spoofed. Control characters (DESIGN "Who
 * may") are refused at admission (EX002) and by the CRD schema, and every CLI output scrubs them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import t from 'tap';
import { parse } from 'yaml';
import { registerException, type ExceptionIo } from '../../src/cli/exception.ts';
import { controlCharacterIn } from '../../src/terminal-text.ts';
import { guardedCluster } from '../helpers/admission-chain.ts';
import { crdValidator } from '../helpers/crd-schema.ts';
import '../helpers/property.ts';

const NOW = new Date();
const EXPIRES = new Date(NOW.getTime() + 5 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const PATH = '/apis/netguard.dev/v1alpha1/namespaces/prod-shop/guardrailexceptions';
const SPOOF = '\u001b[2K\r\u001b[1A approved by carol@example.com';

function waiver(spec: Record<string, unknown>, name = 'web-labels') {
  return {
    apiVersion: 'netguard.dev/v1alpha1',
    kind: 'GuardrailException',
    metadata: { name, namespace: 'prod-shop' },
    spec: {
      rules: ['POD001'],
      target: { kind: 'Deployment', name: 'web' },
      reason: 'The web tier gets its tier label in the December release',
      owner: 'team-web@example.com',
      expires: EXPIRES,
      ...spec,
    },
  };
}

/** `netguard ARGS` in-process, with a captured terminal; `ask` answers a question when given. */
async function netguard(args: string[], ask?: (question: string) => Promise<string>) {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const io: ExceptionIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    now: NOW,
    ask,
  };
  const program = new Command('netguard').exitOverride();
  registerException(program, { io: () => io, exit: (exit) => void (code = exit) });
  await program.parseAsync(args, { from: 'user' });
  return { code, stdout, stderr };
}

t.test('admission refuses control characters in requester-written fields (EX002)', async (t) => {
  const cluster = await guardedCluster(t);
  const cases: [Record<string, unknown>, string, string][] = [
    [{ owner: SPOOF }, 'spec.owner', 'U+001B'],
    [{ reason: 'fine\rapproved' }, 'spec.reason', 'U+000D'],
    [{ ticket: 'CRAWL-1\u009b2J' }, 'spec.ticket', 'U+009B'],
    [{ target: { kind: 'Deployment', name: 'web\u202egnp.exe' } }, 'spec.target.name', 'U+202E'],
  ];
  for (const [index, [spec, path, character]] of cases.entries()) {
    const reply = await cluster.send('user', 'POST', PATH, waiver(spec, `w-${index}`));
    t.equal(reply.status, 403, path);
    t.match(
      reply.body?.['message'],
      `EX002 exception-ownership at ${path}: holds the control character ${character}, which would redraw or reorder what an approver reads on a terminal.`,
    );
  }
  const selector = await cluster.send(
    'user',
    'POST',
    PATH,
    waiver(
      { target: { kind: 'Deployment', selector: { matchLabels: { app: 'web\u0007' } } } },
      'sel',
    ),
  );
  t.equal(selector.status, 403);
  t.match(
    selector.body?.['message'],
    'EX002 exception-ownership at spec.target.selector.matchLabels.app: "web\\u0007" is not a valid label value.',
  );
  const lines = await cluster.send(
    'user',
    'POST',
    PATH,
    waiver({ reason: 'Two lines:\nthe second says why' }, 'two-lines'),
  );
  t.equal(lines.status, 201, 'a line feed is allowed in the reason');
});

t.test('the CRD schema refuses what EX002 refuses, character for character', async (t) => {
  const validate = crdValidator('deploy/crds/guardrailexceptions.yaml', 'v1alpha1');
  const valid = (spec: Record<string, unknown>) => validate(waiver(spec)) === true;
  t.ok(valid({}), 'a plain waiver passes');
  t.ok(valid({ reason: 'line one\nline two' }));
  t.notOk(valid({ owner: SPOOF }));
  t.notOk(valid({ reason: 'a\u2066b' }));
  t.notOk(valid({ target: { kind: 'Deployment', selector: { matchLabels: { app: 'a b' } } } }));
  const anyCharacter = fc
    .integer({ min: 0, max: 0x20ff })
    .map((code) => String.fromCodePoint(code));
  fc.assert(
    fc.property(
      fc.string({ maxLength: 6 }),
      anyCharacter,
      fc.string({ maxLength: 6 }),
      (a, c, b) => {
        const owner = `team${a}${c}${b}`;
        return valid({ owner }) === (controlCharacterIn(owner) === undefined);
      },
    ),
  );
});

t.test('exception list prints requester-written fields scrubbed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-scrub-'));
  const file = join(dir, 'exceptions.yaml');
  writeFileSync(
    file,
    `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: web-labels, namespace: prod-shop}
spec:
  rules: [POD001]
  target: {kind: Deployment, name: "web\\u202E"}
  reason: Legacy
  owner: "${SPOOF.replace(/\u001b/g, '\\e').replace(/\r/g, '\\r')}"
  expires: "${EXPIRES}"
`,
  );
  for (const output of ['text', 'yaml', 'json']) {
    const run = await netguard(['exception', 'list', '--exceptions', file, '-o', output]);
    const printed = run.stdout + run.stderr;
    t.equal(controlCharacterIn(printed, { lineFeed: true }), undefined, `${output}: nothing raw`);
    if (output === 'text') t.match(run.stdout, '\\u001B[2K\\u000D\\u001B[1A approved by');
    if (output === 'text') t.match(run.stdout, 'deployment/web\\u202E');
    if (output === 'json')
      t.equal(
        JSON.parse(run.stdout).exceptions[0]?.owner,
        SPOOF,
        'still valid JSON, the value intact',
      );
    if (output === 'yaml')
      t.equal(
        parse(run.stdout).exceptions[0]?.target,
        'deployment/web\\u202E',
        'still valid YAML, the character shown as its escape',
      );
  }
});

t.test(
  'exception approve shows target, rules and expiry first; asks on a terminal; --yes and no terminal proceed',
  async (t) => {
    const cluster = await guardedCluster(t);
    const kubeconfig = cluster.api.kubeconfigFor('approver');
    for (const name of ['asked', 'declined', 'yes', 'piped'])
      t.equal((await cluster.send('user', 'POST', PATH, waiver({}, name))).status, 201);
    const approve = (name: string, ask?: (q: string) => Promise<string>, ...flags: string[]) =>
      netguard(
        ['exception', 'approve', name, '-n', 'prod-shop', '--kubeconfig', kubeconfig, ...flags],
        ask,
      );
    const approvedBy = (name: string) =>
      cluster.api.get('/apis/netguard.dev/v1alpha1/guardrailexceptions', 'prod-shop', name)?.[
        'spec'
      ]?.['approvedBy'];
    const questions: string[] = [];
    const asked = await approve('asked', async (question) => {
      questions.push(question);
      return 'y';
    });
    t.equal(asked.code, 0);
    t.match(
      asked.stdout,
      /^Approving prod-shop\/asked:\n {2}target: +deployment\/web\n {2}rules: +POD001\n {2}expires: +\S+ \(5 days left\)\n {2}owner: +team-web@example\.com\n {2}requested by: alice@example\.com\n {2}reason: +The web tier/,
    );
    t.same(questions, ['Approve it? [y/N] ']);
    t.equal(approvedBy('asked'), 'carol@example.com');

    const declined = await approve('declined', async () => 'n');
    t.equal(declined.code, 1);
    t.match(declined.stderr, 'netguard: prod-shop/declined not approved');
    t.equal(approvedBy('declined'), undefined, 'nothing written');

    const yes = await approve('yes', async () => t.fail('--yes never asks') as never, '--yes');
    t.equal(yes.code, 0);
    t.match(yes.stderr, /^Approving prod-shop\/yes:\n {2}target: +deployment\/web/);
    const piped = await approve('piped');
    t.equal(piped.code, 0, 'without a terminal it proceeds as before');
    t.match(piped.stderr, /^Approving prod-shop\/piped:\n {2}target: +deployment\/web/);
    t.equal(approvedBy('piped'), 'carol@example.com');
  },
);
