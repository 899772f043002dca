import t from 'tap';
import type { KubeObject } from '../../src/vocabulary.ts';
import { loadFixture, loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

const last = (file: string): KubeObject => {
  const object = loadFixture(`test/fixtures/dialects/${file}`).at(-1);
  if (object === undefined) throw new Error(`${file} is empty`);
  return object;
};

const tenant = { username: 'alice@example.com', groups: ['system:authenticated'] };

t.test("the webhook judges dialect policies by the review's group, version and kind", async (t) => {
  const webhook = await startWebhook(t);
  const post = async (review: ReturnType<typeof reviewFor>) => {
    const reply = await webhook.post('/validate', review);
    t.equal(reply.status, 200);
    return reply.json().response as {
      allowed: boolean;
      status?: { message: string };
      warnings?: string[];
    };
  };

  const calico = loadOne('test/fixtures/dialects/calico-deny-world.yaml');
  const deny = await post(reviewFor(calico, { user: tenant }));
  t.equal(deny.allowed, true, 'a Calico Deny to 0.0.0.0/0 opens nothing');
  t.notMatch(JSON.stringify(deny), /NP002/);

  const world = await post(
    reviewFor(
      {
        ...last('cilium-world-egress.yaml'),
        metadata: { name: 'crawler-out', namespace: 'prod-shop' },
      },
      { user: tenant },
    ),
  );
  t.equal(world.allowed, false);
  t.match(
    world.status?.message,
    /^CiliumNetworkPolicy prod-shop\/crawler-out violates 1 guardrail \(environment production, mode enforce\):\n- NP004 world-egress at spec\.egress\[0\]\.toEntities\[0\]: entity world lets these pods reach any address on the internet\./,
  );

  const clusterwide = await post(reviewFor(last('clusterwide-world.yaml'), { user: tenant }));
  t.equal(clusterwide.allowed, false, 'a tenant may not write a clusterwide policy');
  t.match(clusterwide.status?.message, /NP014 platform-only at metadata\.name/);
});
