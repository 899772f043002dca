import t from 'tap';
import { FIXTURES, runCli } from './run-cli.ts';
import { runCheckInProcess as check } from './run-check.ts';

const REPO = `${FIXTURES}/app-repo`;

interface Skipped {
  file: string;
  document?: number;
  reason: string;
}

t.test(
  'check -f DIR in an application repository: non-Kubernetes YAML is skipped and counted, manifests judged',
  async (t) => {
    const run = await check(['-f', REPO, '-o', 'json']);
    t.equal(run.code, 1, 'the one real manifest is judged (and denied); nothing else is an error');
    const report = run.json();
    t.same(
      report.results.map((r: { kind: string; name: string; file: string }) => [
        r.kind,
        r.name,
        r.file,
      ]),
      [['NetworkPolicy', 'egress-anywhere', `${REPO}/deploy/egress.yaml`]],
    );
    t.same(
      (report.skipped as Skipped[]).map((s) => [s.file, s.document ?? null]),
      [
        [`${REPO}/chart`, null],
        [`${REPO}/config/settings.yaml`, 1],
        [`${REPO}/deploy/egress.yaml`, 1],
        [`${REPO}/values-prod.yaml`, null],
      ],
      'no .github/ or .hidden/ entry: hidden folders are not walked',
    );
    t.match(
      report.skipped[0].reason,
      `a Helm chart: render it and judge the result: helm template RELEASE ${REPO}/chart | netguard check -f -`,
    );
    t.match(report.skipped[1].reason, 'no apiVersion or kind: not a Kubernetes object');
    t.match(
      run.stderr,
      'netguard: skipped 4 inputs that are not Kubernetes manifests (pass --fail-on-skipped',
    );

    const strict = await check(['-f', REPO, '--fail-on-skipped']);
    t.equal(strict.code, 2, '--fail-on-skipped turns skipped inputs into an input error');
    t.match(strict.stderr, '(--fail-on-skipped: exit 2)');

    const excluded = await check([
      '-f',
      REPO,
      '--exclude',
      'values-*.yaml',
      '--exclude',
      `${REPO}/config/**`,
      '-o',
      'json',
    ]);
    t.same(
      (excluded.json().skipped as Skipped[]).map((s) => s.file),
      [`${REPO}/chart`, `${REPO}/deploy/egress.yaml`],
      '--exclude: a base-name glob and a path glob',
    );
  },
);

t.test('named with -f, a file is judged as a manifest: no silent skip', async (t) => {
  const settings = await check(['-f', `${REPO}/config/settings.yaml`]);
  t.equal(settings.code, 2);
  t.match(
    settings.stderr,
    `netguard: ${REPO}/config/settings.yaml: document 1: no apiVersion or kind: not a Kubernetes object`,
  );
  const chart = await check(['-f', `${REPO}/chart`]);
  t.equal(chart.code, 2, 'a chart named with -f cannot be judged, and says how to render it');
  t.match(chart.stderr, `helm template RELEASE ${REPO}/chart | netguard check -f -`);
});

t.test(
  'a templating slip stays an input error in a directory walk: only kind, or metadata without kind',
  async (t) => {
    const run = await check(['-f', `${FIXTURES}/slips`, '-o', 'json']);
    t.equal(run.code, 2);
    t.equal(run.json().skipped, undefined, 'neither is skipped');
    t.match(run.stderr, `${FIXTURES}/slips/kind-only.yaml: document 1: apiVersion: required`);
    t.match(
      run.stderr,
      `${FIXTURES}/slips/metadata-only.yaml: document 1: apiVersion: required (string); kind: required`,
    );
  },
);

t.test(
  'AdmissionReviews: "check reads manifests", skipped in a walk, an error when named',
  async (t) => {
    const named = await check(['-f', 'docs/examples/deployment-prod-shop.json']);
    t.equal(named.code, 2);
    t.match(named.stderr, 'this is an AdmissionReview; check reads manifests');
    const dir = await check(['-f', 'docs/examples', '--exclude', 'kustomize-*', '-o', 'json']);
    t.equal(dir.code, 0, dir.stderr);
    t.same(
      (dir.json().skipped as Skipped[]).map((s) => s.reason.split(' (')[0]),
      [
        'this is an AdmissionReview; check reads manifests',
        'this is an AdmissionReview; check reads manifests',
        'this is an AdmissionReview; check reads manifests',
      ],
    );
  },
);

t.test('--fail-on warn fails a build on a warning no waiver covers', async (t) => {
  const lenient = await check(['-f', `${FIXTURES}/warned.yaml`]);
  t.equal(lenient.code, 0, lenient.stdout);
  t.match(lenient.stdout, 'warn NP007');
  const strict = await check(['-f', `${FIXTURES}/warned.yaml`, '--fail-on', 'warn']);
  t.equal(strict.code, 1);
  const admitted = await check(['-f', `${FIXTURES}/admitted.yaml`, '--fail-on', 'warn']);
  t.equal(admitted.code, 0, 'nothing warned, nothing fails');
  const bad = await check(['-f', `${FIXTURES}/warned.yaml`, '--fail-on', 'info']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--fail-on/);
});

t.test(
  'a CI runner without kubectl (real process, PATH without it): a kustomization fails closed, no Node warnings',
  async (t) => {
    const run = runCli(['check', '-f', `${FIXTURES}/kustomize`], {
      env: { PATH: '/nonexistent' },
    });
    t.equal(run.code, 2, run.stderr);
    t.match(run.stderr, 'a kustomization, and kubectl is not on PATH to render it');
    t.match(run.stderr, `kubectl kustomize ${FIXTURES}/kustomize | netguard check -f -`);
    t.notMatch(run.stderr, /\(node:\d+\)|Warning:/, "Node's own warnings stay off the output");
    t.match(run.stdout, '0 objects', 'nothing judged as written');
  },
);

t.test(
  '--environment on manifests that name no namespace: the unblock hint does not say -n default',
  async (t) => {
    const egress =
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]\n';
    const guessed = await check(['-f', '-', '--environment', 'production'], { stdin: egress });
    t.equal(guessed.code, 1);
    t.match(guessed.stdout, 'netguard exception request -n NAMESPACE --rule NP004');
    t.match(guessed.stdout, '(NAMESPACE: the namespace this object is deployed to');
    t.notMatch(guessed.stdout, '-n default');
    const placed = await check(['-f', '-', '--environment', 'production', '-n', 'prod-web'], {
      stdin: egress,
    });
    t.match(placed.stdout, 'netguard exception request -n prod-web --rule NP004');
  },
);
