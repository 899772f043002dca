import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { serve } from '../../src/cli/serve.ts';
import { httpsClient } from '../helpers/https-client.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { localCertificates } from '../helpers/tls.ts';
import { until } from '../helpers/until.ts';

t.test(
  'policy and exception files replaced while serving: good versions apply, broken ones keep the last good set',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-reload-'));
    const config = join(dir, 'guardrails.yaml');
    const exceptions = join(dir, 'exceptions.yaml');
    copyFileSync('policies/guardrails.yaml', config);
    writeFileSync(exceptions, '');
    const certs = localCertificates();
    const running = await serve({
      config,
      exceptions,
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      certs: certs.dir,
      logLevel: 'silent',
      drainSeconds: 0,
    });
    const port = Number(new URL(running.url).port);
    const client = httpsClient(port, certs.ca);
    t.teardown(async () => {
      client.close();
      await running.close();
    });
    const deployment = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
    const verdict = async () =>
      (await client.post('/validate', reviewFor(deployment))).json().response.allowed as boolean;

    t.equal(await verdict(), false, 'production denies POD001 with the shipped policy');

    // A good edit: production moves to observe.
    writeFileSync(
      config,
      readFileSync('policies/guardrails.yaml', 'utf8').replace('mode: enforce', 'mode: observe'),
    );
    await until(async () => (await verdict()) === true, 'the edited policy to apply');

    for (const [what, text] of [
      ['an empty file', ''],
      [
        'a typo',
        'apiVersion: netguard.dev/v1alpha1\nkind: GuardrailPolicy\nspec:\n  enviroments: []\n',
      ],
      ['half a file', readFileSync('policies/guardrails.yaml', 'utf8').slice(0, 300)],
    ] as const) {
      writeFileSync(config, text);
      writeFileSync(
        exceptions,
        'apiVersion: netguard.dev/v1alpha1\nkind: GuardrailException\nspec: {rules: 7}\n',
      );
      await new Promise((resolve) => setTimeout(resolve, 400)); // past the 100 ms debounce of the watcher
      t.equal(
        await verdict(),
        true,
        `${what}: the last good policy (production in observe) still decides`,
      );
      t.equal((await client.get('/readyz')).status, 200, `${what}: /readyz stays ready`);
    }
  },
);
