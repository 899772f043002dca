import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { schemaValidator } from '../helpers/json-schema.ts';

const DOC = readFileSync('docs/ci.md', 'utf8');

/** The YAML block after `<!-- pipeline: NAME -->` in docs/ci.md. */
function pipeline(name: string): unknown {
  const match = new RegExp(`<!-- pipeline: ${name} -->\\n\`\`\`yaml\\n([\\s\\S]*?)\`\`\``).exec(
    DOC,
  );
  if (match?.[1] === undefined) throw new Error(`docs/ci.md has no ${name} pipeline`);
  return parse(match[1]);
}

// Installing the release tarball becomes this checkout's CLI on PATH; every other line runs as written.
const INSTALL = /^npm install --global "\$NETGUARD_TARBALL"$/;

function workspace(manifests: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-ci-'));
  mkdirSync(join(dir, 'k8s'));
  cpSync(manifests, join(dir, 'k8s', 'app.yaml'));
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'netguard'),
    `#!/bin/sh\nexec "${process.execPath}" "${resolve('src/cli/main.ts')}" "$@"\n`,
    { mode: 0o755 },
  );
  return {
    dir,
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1' },
  };
}

function runLines(
  lines: readonly string[],
  manifests: string,
): { dir: string; codes: number[]; outputs: string[] } {
  const { dir, env } = workspace(manifests);
  const codes: number[] = [];
  const outputs: string[] = [];
  for (const line of lines.filter((l) => !INSTALL.test(l))) {
    const run = spawnSync('bash', ['-eo', 'pipefail', '-c', line], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    codes.push(run.status ?? -1);
    outputs.push(run.stdout + run.stderr);
  }
  return { dir, codes, outputs };
}

const ADMITTED = 'test/fixtures/check/admitted.yaml';
const DENIED = 'test/fixtures/check/denied.yaml';
const validSarif = schemaValidator('test/fixtures/schemas/sarif-2.1.0-rtm.5.json');

t.test('GitHub Actions pipeline: the run lines, as written', async (t) => {
  const workflow = pipeline('github') as {
    jobs: {
      guardrails: { steps: { run?: string; uses?: string; with?: Record<string, string> }[] };
    };
  };
  const steps = workflow.jobs.guardrails.steps;
  const lines = steps.flatMap((step) => (step.run === undefined ? [] : [step.run]));
  t.ok(
    lines.some((line) => INSTALL.test(line)),
    'the pipeline installs netguard',
  );
  const upload = steps.find(
    (step) => step.uses?.startsWith('github/codeql-action/upload-sarif') === true,
  );
  t.equal(upload?.with?.['sarif_file'], 'netguard.sarif', 'uploads the file the check wrote');

  const ok = runLines(lines, ADMITTED);
  t.same(ok.codes, [0, 0], ok.outputs.join('\n'));
  t.ok(validSarif(JSON.parse(readFileSync(join(ok.dir, 'netguard.sarif'), 'utf8'))));
  t.match(
    ok.outputs[1],
    'netguard check: 3 objects: 0 denied, 0 admitted with warnings, 3 admitted',
  );

  const bad = runLines(lines, DENIED);
  t.same(bad.codes, [0, 1], 'SARIF step passes on denials; the annotation step fails the job');
  const sarif = JSON.parse(readFileSync(join(bad.dir, 'netguard.sarif'), 'utf8'));
  t.ok(validSarif(sarif));
  t.same(
    sarif.runs[0].results.map((r: { ruleId: string; level: string }) => [r.ruleId, r.level]),
    [
      ['NP004', 'error'],
      ['NP007', 'warning'],
    ],
  );
  t.match(bad.outputs[1], '::error file=k8s/app.yaml,line=8,title=netguard NP004 world-egress::');

  const broken = runLines(lines, 'test/fixtures/check/broken.yaml');
  t.equal(broken.codes[0], 1, 'bad input (exit 2) fails the SARIF step: `test $? -eq 1` is false');
});

t.test('GitLab CI pipeline: the script lines, as written', async (t) => {
  const job = (
    pipeline('gitlab') as {
      netguard: { script: string[]; artifacts: { reports: { junit: string } } };
    }
  ).netguard;
  const ok = runLines(job.script, ADMITTED);
  t.same(ok.codes, [0]);
  const report = join(ok.dir, job.artifacts.reports.junit);
  t.ok(existsSync(report), 'the job writes the report it declares');
  t.match(
    readFileSync(report, 'utf8'),
    '<testsuites name="netguard check" tests="3" failures="0" errors="0">',
  );
  const bad = runLines(job.script, DENIED);
  t.same(bad.codes, [1], 'the job fails on a denial');
  const xml = readFileSync(join(bad.dir, job.artifacts.reports.junit), 'utf8');
  t.match(
    xml,
    '<failure message="NetworkPolicy prod-crawl/egress-anywhere would be denied (production, enforce): NP004" type="NP004">',
  );
  t.match(xml, '(k8s/app.yaml:8)');
});
