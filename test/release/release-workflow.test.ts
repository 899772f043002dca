import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { schemaValidator } from '../helpers/json-schema.ts';

// The release workflow cannot run here: it is checked against GitHub's workflow schema
// (SchemaStore's, vendored trimmed with its source noted) and for what a release must hold.
const validWorkflow = schemaValidator('test/fixtures/schemas/github-workflow.json');
const workflow = parse(readFileSync('.github/workflows/release.yml', 'utf8')) as {
  on: { push: { tags: string[] } };
  jobs: Record<
    string,
    {
      needs?: string[];
      strategy?: { matrix: { include: { arch: string; runner: string }[] } };
      steps: { uses?: string; run?: string; with?: Record<string, unknown> }[];
    }
  >;
};

const runs = (job: string): string =>
  (workflow.jobs[job]?.steps ?? []).map((step) => step.run ?? '').join('\n');

t.test('release.yml is a valid GitHub workflow (and the schema check can fail)', async (t) => {
  t.ok(validWorkflow(workflow), JSON.stringify(validWorkflow.errors?.slice(0, 3)));
  t.notOk(validWorkflow({ ...workflow, jobs: { x: { steps: [] } } }), 'a job without runs-on');
  t.notOk(validWorkflow({ ...workflow, on: { push: { tagz: ['v*'] } } }), 'a misspelled filter');
});

t.test('a tag builds the tarball, both standalone binaries, the image and checksums', async (t) => {
  t.same(workflow.on.push.tags, ['v*']);
  t.match(runs('tarball'), 'npm pack');
  t.same(
    workflow.jobs['standalone']?.strategy?.matrix.include.map((entry) => entry.arch),
    ['x64', 'arm64'],
  );
  t.match(runs('standalone'), 'npm run build:standalone');
  t.same(workflow.jobs['publish']?.needs, ['tarball', 'standalone', 'image']);
  t.match(runs('publish'), /sha256sum -- \* > SHA256SUMS/);
  t.match(runs('publish'), 'gh release create');
});

t.test('the image is multi-arch and built on a base digest resolved at release time', async (t) => {
  const steps = workflow.jobs['image']?.steps ?? [];
  const build = steps.find((step) => step.uses?.startsWith('docker/build-push-action'));
  t.equal(build?.with?.['platforms'], 'linux/amd64,linux/arm64');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not JavaScript
  t.equal(build?.with?.['build-args'], 'NODE_IMAGE=${{ steps.base.outputs.image }}');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, not JavaScript
  t.match(runs('image'), 'docker buildx imagetools inspect "${BASE_IMAGE}"');
  const text = readFileSync('.github/workflows/release.yml', 'utf8');
  t.notMatch(text, /@sha256:[0-9a-f]{64}/, 'no digest written by hand');
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  t.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
  t.equal(
    dockerfile.match(/^FROM /gm)?.length,
    dockerfile.match(/^FROM \$\{NODE_IMAGE\}/gm)?.length,
    'every stage is built on the resolved base',
  );
});

t.test(
  'LICENSE is the Apache-2.0 text package.json names; CHANGELOG has this version',
  async (t) => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      version: string;
      license: string;
    };
    t.equal(pkg.license, 'Apache-2.0');
    const license = readFileSync('LICENSE', 'utf8');
    t.match(license, /Apache License\s+Version 2\.0, January 2004/);
    t.match(license, 'END OF TERMS AND CONDITIONS');
    t.match(
      readFileSync('CHANGELOG.md', 'utf8'),
      new RegExp(`^## ${pkg.version.replace(/\./g, '\\.')}\\b`, 'm'),
    );
  },
);
