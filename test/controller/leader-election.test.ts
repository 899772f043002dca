import { pino } from 'pino';
import t from 'tap';
import { startLeaderElection } from '../../src/kube/leader-election.ts';
import { kubeRest } from '../../src/kube/rest.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { until } from '../helpers/until.ts';

const LEASES = '/apis/coordination.k8s.io/v1/leases';

t.test(
  'acquire a free lease, renew it, lose a race on 409 without writing again, hand it back on stop',
  async (t) => {
    const api = await startFakeKubeApi(t);
    const clock = { ms: Date.parse('2026-11-22T12:00:00Z') };
    let release: () => void = () => undefined;
    let rounds = 0;
    const elector = startLeaderElection({
      rest: kubeRest(api.kubeConfig()),
      namespace: 'netguard-system',
      name: 'netguard-controller',
      identity: 'replica-a',
      logger: pino({ level: 'silent' }),
      now: () => clock.ms,
      delay: () =>
        new Promise<void>((resolve) => {
          rounds += 1;
          release = resolve;
        }),
    });
    await until(() => rounds === 1, 'first round');
    t.ok(elector.isLeader(), 'a missing lease is created and held');
    t.same(
      api.writes().map((w) => `${w.method} ${w.path}`),
      ['POST /apis/coordination.k8s.io/v1/namespaces/netguard-system/leases'],
    );

    clock.ms += 2_000;
    release();
    await until(() => rounds === 2, 'renewal');
    const lease = api.get(LEASES, 'netguard-system', 'netguard-controller') as {
      spec: Record<string, unknown>;
    };
    t.same(
      [
        lease.spec['holderIdentity'],
        lease.spec['renewTime'],
        lease.spec['acquireTime'],
        lease.spec['leaseTransitions'],
      ],
      ['replica-a', '2026-11-22T12:00:02.000000Z', '2026-11-22T12:00:00.000000Z', 0],
    );

    api.failNext('PUT', /leases\/netguard-controller$/, 409, 'Conflict');
    clock.ms += 2_000;
    release();
    await until(() => rounds === 3, 'conflicted renewal');
    t.ok(elector.isLeader(), 'still within the renew deadline after one lost round');
    clock.ms += 10_000;
    t.notOk(elector.isLeader(), 'past the renew deadline without a renewal: stop writing');

    clock.ms += 1_000;
    release();
    await until(() => rounds === 4, 'reacquire');
    t.ok(elector.isLeader());
    await elector.stop();
    t.notOk(elector.isLeader());
    const released = api.get(LEASES, 'netguard-system', 'netguard-controller') as {
      spec: Record<string, unknown>;
    };
    t.equal(
      released.spec['holderIdentity'],
      '',
      'handed back so another replica need not wait out the lease',
    );
    t.equal(released.spec['leaseDurationSeconds'], 1);
  },
);
