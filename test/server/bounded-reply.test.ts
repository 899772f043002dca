import { readFileSync } from 'node:fs';
import t from 'tap';
import { parsePolicy } from '../../src/config/load.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { contextFor, LAB_POLICY } from '../helpers/context.ts';
import { injectableApp } from '../helpers/app.ts';
import { reviewFor } from '../helpers/reviews.ts';

t.test(
  'a NetworkPolicy with 7,000 findings gets a denial of a few KB naming counts per rule',
  async (t) => {
    // NP013's limits raised, so all 7,000 rules are judged and the reply has findings to bound.
    const policy = parsePolicy(
      readFileSync(LAB_POLICY, 'utf8').replace(
        '    clusterCIDRs:',
        '    limits: {rules: 10000, peers: 20000, ports: 10000}\n    clusterCIDRs:',
      ),
      LAB_POLICY,
      RULES_BY_ID,
    );
    const app = injectableApp({ context: () => contextFor({ policy }) });
    t.teardown(() => app.close());
    // Every other egress rule opens the internet, the rest name a pod IP range: each is NP004 (NP005
    // stays silent where the direction already opens the internet).
    const egress = Array.from({ length: 7_000 }, (_, i) => ({
      to: [{ ipBlock: { cidr: i % 2 === 0 ? '0.0.0.0/0' : `10.244.${i % 256}.0/24` } }],
      ports: [{ port: 443, protocol: 'TCP' }],
    }));
    const networkPolicy = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'x'.repeat(253), namespace: 'prod-shop' },
      spec: {
        podSelector: { matchLabels: { app: 'web', tier: 'frontend' } },
        policyTypes: ['Egress'],
        egress,
      },
    };
    const payload = JSON.stringify(reviewFor(networkPolicy));
    t.ok(payload.length > 500 * 1024, `a ${(payload.length / 1024 / 1024).toFixed(1)} MiB review`);
    const reply = await app.inject({
      method: 'POST',
      url: '/validate',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    t.equal(reply.statusCode, 200);
    const response = reply.json().response;
    t.equal(response.allowed, false);
    const message: string = response.status.message;
    t.ok(message.length < 4096, `denial is ${message.length} characters`);
    const lines = message.split('\n');
    t.match(
      lines[0],
      /^NetworkPolicy prod-shop\/x+… violates \d+ guardrails \(environment production, mode enforce\):$/,
    );
    t.equal(
      lines.filter((line) => line.startsWith('- NP')).length,
      8,
      'the first 8 findings in full',
    );
    t.match(
      lines.at(-2),
      /^- and \d+ more \(NP004 x\d+.*\); run netguard check -f on the manifest for every finding$/,
    );
    t.match(
      lines.at(-1),
      /^Need more time\? netguard exception request -n prod-shop --rule NP001,NP004 --target networkpolicy\/x+ --expires 14d --reason/,
    );
    t.ok(
      lines.every((line) => line.length <= 720),
      'every line bounded',
    );
    t.ok(JSON.stringify(response.warnings ?? []).length < 4096, 'warnings bounded too');
  },
);
