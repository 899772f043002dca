/**
 * Issue 24, items 0–2: who is trusted about ownership, and who may delete a baseline. Every request
 * goes through the stand-in API server, authenticated as the identity under test, into the real
 * webhook; netguard's caches watch the same server (and hold no workload owners).
 */
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { shippedPolicy } from '../helpers/context.ts';
import { BUILT_IN_CONTROLLERS, isControllerIdentity } from '../../src/engine/trust.ts';
import { guardedCluster, IDENTITIES, type Identity } from '../helpers/admission-chain.ts';
import { loadOne } from '../helpers/reviews.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import '../helpers/property.ts';

const FIXTURES = 'test/fixtures/identities';
const NAMESPACES = '/api/v1/namespaces';
const RS = '/apis/apps/v1/namespaces/prod-shop/replicasets';
const JOBS = '/apis/batch/v1/namespaces/prod-shop/jobs';
const PODS = '/api/v1/namespaces/prod-shop/pods';
const NETPOL = '/apis/networking.k8s.io/v1/namespaces/prod-shop/networkpolicies';
const fixture = (name: string) => loadOne(`${FIXTURES}/${name}.yaml`);
/** The fixture under another name, so each identity's attempt is a fresh CREATE. */
const named = (file: string, name: string): KubeObject => {
  const object = fixture(file);
  return { ...object, metadata: { ...(object['metadata'] as object), name } };
};
const seed = () => ({
  [NAMESPACES]: [fixture('namespaces')],
  '/apis/apps/v1/replicasets': [fixture('replicaset-real')],
  '/apis/networking.k8s.io/v1/networkpolicies': [fixture('baseline-default-deny')],
});

const USERS: readonly Identity[] = [
  'user',
  'kube-system-other',
  'kube-system-lookalike',
  'namespace-controller',
];

t.test(
  'a rollout of a grandfathered Deployment: the ReplicaSet the deployment-controller creates is admitted with a warning; the same from anyone else is denied',
  async (t) => {
    const cluster = await guardedCluster(t, { seed: seed() });
    const created = await cluster.send(
      'deployment-controller',
      'POST',
      RS,
      fixture('replicaset-from-deployment'),
    );
    t.equal(created.status, 201, 'the rollout proceeds');
    t.same(created.warnings, [
      'netguard POD001: spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier (judged at its Deployment shop-web)',
    ]);
    for (const who of [...USERS, 'cronjob-controller'] as const) {
      const reply = await cluster.send(
        who,
        'POST',
        RS,
        named('replicaset-from-deployment', `rs-${who}`),
      );
      t.equal(reply.status, 403, `${who}: judged as written`);
      t.match(
        reply.body?.['message'],
        /denied the request: ReplicaSet prod-shop\/rs-[\w-]+ violates 1 guardrail \(environment production, mode enforce\):\n- POD001 required-labels at spec\.template\.metadata\.labels: required label "tier" is missing/,
      );
    }
  },
);

t.test(
  'a scheduled run of a grandfathered CronJob: the cronjob-controller creating its Job is admitted with a warning; a user is denied',
  async (t) => {
    const cluster = await guardedCluster(t, { seed: seed() });
    const run = await cluster.send('cronjob-controller', 'POST', JOBS, fixture('job-from-cronjob'));
    t.equal(run.status, 201);
    t.same(run.warnings, [
      'netguard POD001: spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier (judged at its CronJob nightly-report)',
    ]);
    for (const who of [...USERS, 'deployment-controller'] as const) {
      // deployment-controller never creates Jobs of CronJobs: a built-in controller is trusted only for its owners.
      const reply = await cluster.send(who, 'POST', JOBS, named('job-from-cronjob', `run-${who}`));
      t.equal(reply.status, 403, `${who}: judged as written`);
      t.match(reply.body?.['message'], 'POD001 required-labels at spec.template.metadata.labels');
    }
  },
);

t.test(
  'a hand-written ownerReference naming a real ReplicaSet changes nothing for a user',
  async (t) => {
    const cluster = await guardedCluster(t, { seed: seed() });
    for (const who of USERS) {
      const reply = await cluster.send(
        who,
        'POST',
        PODS,
        named('pod-naming-real-replicaset', `miner-${who}`),
      );
      t.equal(reply.status, 403, `${who}: denied`);
      t.match(reply.body?.['message'], 'POD003 host-network at spec.hostNetwork');
      t.match(reply.body?.['message'], 'POD001 required-labels at metadata.labels');
      t.notMatch(reply.body?.['message'], 'judged at');
    }
    const byController = await cluster.send(
      'replicaset-controller',
      'POST',
      PODS,
      fixture('pod-naming-real-replicaset'),
    );
    t.equal(byController.status, 201, 'the ReplicaSet controller creating its Pod is trusted');
    t.ok(
      byController.warnings.every((line) =>
        line.endsWith('(judged at its ReplicaSet shop-web-5d8f7c9b6)'),
      ),
      'every finding names the owner',
    );
    t.equal(byController.warnings.length, 3, 'POD001 app and tier, POD003');
  },
);

t.test(
  'configured controller users (spec.trust) are trusted for any owner kind; nothing else changes',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-trust-'));
    const config = join(dir, 'guardrails.yaml');
    writeFileSync(
      config,
      readFileSync('policies/guardrails.yaml', 'utf8').replace(
        'controllerUsers: []',
        `controllerUsers: ["${IDENTITIES['argo-rollouts'].username}"]`,
      ),
    );
    const cluster = await guardedCluster(t, { config, seed: seed() });
    const rs = fixture('replicaset-from-deployment');
    const ownedByRollout = {
      ...rs,
      metadata: {
        ...(rs['metadata'] as object),
        ownerReferences: [
          {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Rollout',
            name: 'shop-web',
            uid: 'b1a2c3d4-0000-4000-8000-000000000003',
            controller: true,
          },
        ],
      },
    };
    const byArgo = await cluster.send('argo-rollouts', 'POST', RS, ownedByRollout);
    t.equal(byArgo.status, 201);
    t.match(byArgo.warnings[0], /\(judged at its Rollout shop-web\)$/);
    const byDeploymentController = await cluster.send('deployment-controller', 'POST', RS, {
      ...ownedByRollout,
      metadata: { ...ownedByRollout.metadata, name: 'other' },
    });
    t.equal(
      byDeploymentController.status,
      403,
      'a built-in controller is trusted only for the owners it runs (a Rollout is not one)',
    );
  },
);

t.test(
  "deleting a namespace: its baseline's DELETE by the namespace controller is admitted, by anyone else denied",
  async (t) => {
    const path = `${NETPOL}/netguard-default-deny`;
    for (const who of ['namespace-controller', 'kube-controller-manager'] as const) {
      const cluster = await guardedCluster(t, { seed: seed() });
      const reply = await cluster.send(who, 'DELETE', path);
      t.equal(reply.status, 200, `${who} empties the namespace`);
      t.equal(
        cluster.api.get(
          '/apis/networking.k8s.io/v1/networkpolicies',
          'prod-shop',
          'netguard-default-deny',
        ),
        undefined,
      );
    }
    const cluster = await guardedCluster(t, { seed: seed() });
    for (const who of [
      'user',
      'kube-system-other',
      'kube-system-lookalike',
      'deployment-controller',
      'replicaset-controller',
      'cronjob-controller',
    ] as const) {
      const reply = await cluster.send(who, 'DELETE', path);
      t.equal(reply.status, 403, `${who} may not delete the baseline`);
      t.match(reply.body?.['message'], 'NP011 baseline-tamper');
    }
  },
);

t.test("only netguard's controller may set ownerReferences on a baseline", async (t) => {
  const cluster = await guardedCluster(t, { seed: seed() });
  const path = `${NETPOL}/netguard-default-deny`;
  const owner = {
    metadata: {
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: 'mine',
          uid: 'c0ffee00-0000-4000-8000-000000000004',
        },
      ],
    },
  };
  for (const who of ['user', 'namespace-controller', 'kube-system-other'] as const) {
    const reply = await cluster.send(who, 'PATCH', path, owner);
    t.equal(reply.status, 403, who);
    t.match(
      reply.body?.['message'],
      'NP011 baseline-tamper at metadata.ownerReferences: this is a baseline NetworkPolicy managed by netguard',
    );
  }
  const reply = await cluster.send('netguard-controller', 'PATCH', path, owner);
  t.equal(reply.status, 200, "netguard's controller may");
});

t.test(
  'controller identities compare whole: no prefix, suffix or kube-system account counts',
  async (t) => {
    const policy = shippedPolicy();
    const user = (username: string, groups: string[] = []) => ({ username, groups });
    for (const name of BUILT_IN_CONTROLLERS) t.ok(isControllerIdentity(user(name), policy), name);
    t.notOk(isControllerIdentity(user('system:serviceaccount:kube-system:coredns'), policy));
    t.notOk(
      isControllerIdentity(user('alice', ['system:serviceaccounts:kube-system']), policy),
      'a kube-system group is not a controller group',
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...BUILT_IN_CONTROLLERS),
        fc.string({ maxLength: 8 }),
        fc.string({ maxLength: 8 }),
        (name, before, after) => {
          const username = `${before}${name}${after}`;
          return (
            isControllerIdentity(user(username), policy) === BUILT_IN_CONTROLLERS.has(username)
          );
        },
      ),
    );
  },
);
