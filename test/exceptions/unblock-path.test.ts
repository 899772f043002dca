/**
 * Done when (issue 14): the unblock path, walked as a developer and an approver would, end to end.
 * The fake API server authenticates users by bearer token and authorizes every request with the
 * RBAC shipped in deploy/ (plus the bindings a platform team writes); its admission chain calls the
 * real webhook over HTTPS; netguard's caches watch the fake as netguard's service account; the CLI
 * runs in-process through the same commander definitions as `netguard`, with an injected clock.
 */
import { UsageError } from '../../src/errors.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Command } from 'commander';
import jsonpatch from 'fast-json-patch';
import { pino } from 'pino';
import t from 'tap';
import { registerException, type ExceptionIo } from '../../src/cli/exception.ts';

import { EXCEPTIONS_PATH } from '../../src/kube/exception-source.ts';
import { startExpiryEvents } from '../../src/kube/expiry-events.ts';
import { kubeRest } from '../../src/kube/rest.ts';
import { createMetrics } from '../../src/metrics.ts';
import { startWorld } from '../../src/live-world.ts';
import {
  startFakeKubeApi,
  type AdmissionAttempt,
  type AdmissionOutcome,
  type FakeKubeApi,
} from '../helpers/fake-kube-api.ts';
import { loadFixture, loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook, type RunningWebhook } from '../helpers/webhook.ts';
import { until } from '../helpers/until.ts';

type Obj = Record<string, any>;
const FIXTURES = 'test/fixtures/exceptions/unblock';
const NAMESPACE = 'prod-shop';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`;
const NETGUARD_SA = 'system:serviceaccount:netguard-system:netguard';

/** Who is who: tokens in each person's kubeconfig. */
const USERS = {
  alice: { token: 'alice-token', user: { username: 'alice@example.com', groups: ['team-shop'] } },
  bob: { token: 'bob-token', user: { username: 'bob@example.com', groups: ['team-shop'] } },
  carol: {
    token: 'carol-token',
    user: { username: 'carol@example.com', groups: ['netguard:approvers'] },
  },
  netguard: {
    token: 'netguard-token',
    user: {
      username: NETGUARD_SA,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:netguard-system'],
    },
  },
} as const;
type Person = keyof typeof USERS;

/** Splits a printed command line as a POSIX shell would (plain words, "double" and 'single' quotes). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g))
    words.push(match[1] ?? match[2] ?? match[3] ?? '');
  return words;
}

/** The API server's admission chain for netguard's two webhooks (as deploy/base/webhooks.yaml registers them). */
function admissionThrough(webhook: () => RunningWebhook) {
  return async (attempt: AdmissionAttempt): Promise<AdmissionOutcome> => {
    if (
      attempt.operation === 'DELETE' ||
      !['deployments', 'guardrailexceptions'].includes(attempt.resource)
    )
      return { allowed: true };
    const user = {
      username: attempt.user.username,
      groups: [...attempt.user.groups, 'system:authenticated'],
    };
    const review = (object: Obj | undefined) =>
      reviewFor(object, {
        operation: attempt.operation,
        ...(attempt.oldObject === undefined ? {} : { oldObject: attempt.oldObject }),
        user,
      });
    const warnings: string[] = [];
    let object = attempt.object;
    if (attempt.resource === 'guardrailexceptions') {
      const mutated = (await webhook().post('/mutate', review(object))).json().response;
      warnings.push(...(mutated.warnings ?? []));
      if (mutated.patch !== undefined) {
        const patch = JSON.parse(Buffer.from(mutated.patch, 'base64').toString('utf8'));
        object = jsonpatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
      }
    }
    const verdict = (await webhook().post('/validate', review(object))).json().response;
    warnings.push(...(verdict.warnings ?? []));
    if (verdict.allowed === true) return { allowed: true, object, warnings };
    const message = `admission webhook "validate.netguard.dev" denied the request: ${verdict.status.message}`;
    return {
      allowed: false,
      code: verdict.status.code,
      reason: verdict.status.reason,
      message,
      warnings,
    };
  };
}

t.test(
  'Done when: from a denial to an approved waiver, its expiry, and its renewal, as printed',
  async (t) => {
    const transcript: string[] = [];
    let now = new Date('2026-11-22T09:00:00Z');
    const clock = (): Date => now;
    let webhook: RunningWebhook | undefined;
    const api: FakeKubeApi = await startFakeKubeApi(t, {
      users: Object.fromEntries(Object.values(USERS).map(({ token, user }) => [token, user])),
      rbac: [...loadFixture('deploy/base/rbac.yaml'), ...loadFixture(`${FIXTURES}/rbac.yaml`)],
      admission: admissionThrough(() => {
        if (webhook === undefined) throw new Error('webhook not started');
        return webhook;
      }),
    });
    api.seed('/api/v1/namespaces', loadOne(`${FIXTURES}/cluster.yaml`));
    const kubeconfig = Object.fromEntries(
      Object.entries(USERS).map(([who, { token }]) => [who, api.kubeconfigFor(token)]),
    ) as Record<Person, string>;

    // netguard, as `serve` runs it in the cluster: the world over the caches, the expiry Events, the metrics.
    const dir = mkdtempSync(join(tmpdir(), 'netguard-unblock-'));
    writeFileSync(join(dir, 'exceptions.yaml'), '');
    const logger = pino({ level: 'silent' });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig.netguard);
    const world = startWorld({
      config: 'policies/guardrails.yaml',
      exceptions: join(dir, 'exceptions.yaml'),
      logger,
      kubeConfig: kc,
    });
    t.teardown(() => world.close());
    webhook = await startWebhook(t, {
      context: () => world.context(clock()),
      notReady: world.notReady,
    });
    const metrics = createMetrics({ processMetrics: false, waivers: () => world.registry.all() });
    const expiry = startExpiryEvents({
      rest: kubeRest(kc),
      waivers: () => world.registry.all(),
      warnBeforeMs: () => world.policy().exceptions.warnBeforeMs,
      now: clock,
      logger,
      intervalMs: 0,
    });
    t.teardown(() => expiry.stop());
    await until(() => world.notReady().length === 0, 'netguard caches synced');

    const previousKubeconfig = process.env['KUBECONFIG'];
    t.teardown(() => {
      if (previousKubeconfig === undefined) delete process.env['KUBECONFIG'];
      else process.env['KUBECONFIG'] = previousKubeconfig;
    });

    /** `$ LINE` as PERSON, through the real command definitions; what it printed joins the transcript. */
    const netguard = async (
      who: Person,
      line: string,
      answer?: string,
    ): Promise<{ code: number; stdout: string; stderr: string }> => {
      process.env['KUBECONFIG'] = kubeconfig[who]; // the default kubeconfig, as on the person's laptop
      let stdout = '';
      let stderr = '';
      let code = 0;
      const io: ExceptionIo = {
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        now: clock(),
        // On a terminal (when the story gives an answer): the question and the answer, as shown.
        ask:
          answer === undefined
            ? undefined
            : async (question) => {
                stdout += `${question}${answer}\n`;
                return answer;
              },
      };
      const program = new Command('netguard').exitOverride();
      registerException(program, { io: () => io, exit: (exit) => void (code = exit) });
      try {
        await program.parseAsync(shellWords(line).slice(1), { from: 'user' });
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        code = 2;
        stderr += `netguard: ${err.message}\n`;
      }
      transcript.push(`${who}$ ${line}`, ...`${stdout}${stderr}`.trimEnd().split('\n'));
      return { code, stdout, stderr };
    };

    /** `kubectl create -f web.yaml` / `kubectl replace -f web.yaml`, as kubectl prints the outcome. */
    const kubectl = async (
      who: Person,
      verb: 'create' | 'replace',
      object: Obj,
    ): Promise<{ ok: boolean; lines: string[] }> => {
      let reply;
      if (verb === 'create') {
        reply = await api.send(USERS[who].token, 'POST', DEPLOYMENTS, object);
      } else {
        const current = await api.send(
          USERS[who].token,
          'GET',
          `${DEPLOYMENTS}/${object['metadata'].name}`,
        );
        const body = {
          ...object,
          metadata: {
            ...object['metadata'],
            resourceVersion: current.body?.['metadata']?.resourceVersion,
          },
        };
        reply = await api.send(
          USERS[who].token,
          'PUT',
          `${DEPLOYMENTS}/${object['metadata'].name}`,
          body,
        );
      }
      const ok = reply.status < 300;
      const lines = [
        ...reply.warnings.map((warning) => `Warning: ${warning}`),
        ok
          ? `deployment.apps/web ${verb}d`
          : `Error from server (${reply.body?.['reason']}): error when ${verb === 'create' ? 'creating' : 'replacing'} "web.yaml": ${reply.body?.['message']}`,
      ];
      transcript.push(
        `${who}$ kubectl ${verb} -f web.yaml`,
        ...lines.flatMap((line) => line.split('\n')),
      );
      return { ok, lines };
    };
    const waiverNamed = (name: string) =>
      world.registry.all().find((waiver) => waiver.name === name);

    // 1. Denied in production; the denial ends with the command to ask for a waiver.
    const web = loadOne(`${FIXTURES}/web.yaml`);
    const denied = await kubectl('alice', 'create', web);
    t.notOk(denied.ok);
    const denial = denied.lines.join('\n');
    t.match(
      denial,
      /^Error from server \(Forbidden\): error when creating "web\.yaml": admission webhook "validate\.netguard\.dev" denied the request: Deployment prod-shop\/web violates 1 guardrail \(environment production, mode enforce\):\n- POD001 required-labels at spec\.template\.metadata\.labels/,
    );
    const printed = denial.split('\n').at(-1) ?? '';
    t.equal(
      printed,
      'Need more time? netguard exception request -n prod-shop --rule POD001 --target deployment/web --expires 14d --reason "<why this is needed>" --apply',
    );

    // 2. Unedited, the command is refused; with only the reason filled in, it creates a pending waiver.
    const asPrinted = printed.replace(/^Need more time\? /, '');
    const unedited = await netguard('alice', asPrinted);
    t.equal(unedited.code, 2);
    t.equal(unedited.stderr, 'netguard: --reason: replace the placeholder with the real reason\n');
    const requested = await netguard(
      'alice',
      asPrinted.replace(
        '<why this is needed>',
        'The tier label lands with the chart 2.0 migration in sprint 48',
      ),
    );
    t.equal(requested.code, 0, requested.stderr);
    t.equal(
      requested.stdout,
      'guardrailexception.netguard.dev/pod001-web created in namespace prod-shop (owner team-shop@example.com).\n' +
        'It is pending: it waives nothing until a member of the approver groups runs:\n' +
        '  netguard exception approve -n prod-shop pod001-web\n',
    );
    t.match(api.get(EXCEPTIONS_PATH, NAMESPACE, 'pod001-web'), {
      spec: {
        rules: ['POD001'],
        target: { kind: 'Deployment', name: 'web' },
        owner: 'team-shop@example.com',
        requestedBy: 'alice@example.com',
        expires: '2026-12-06T09:00:00Z',
      },
    });
    t.notOk(api.get(EXCEPTIONS_PATH, NAMESPACE, 'pod001-web')?.['spec'].approvedBy, 'pending');
    await until(() => waiverNamed('pod001-web') !== undefined, "the waiver in netguard's cache");

    // 3. Pending waives nothing.
    const pending = await kubectl('alice', 'create', web);
    t.notOk(pending.ok);
    t.match(pending.lines.join('\n'), /\(waiver prod-shop\/pod001-web awaits approval\)\n/);
    t.equal(
      pending.lines.at(-1)?.split('\n').at(-1),
      'Waiver prod-shop/pod001-web is pending: it waives nothing until a member of the approver groups runs netguard exception approve -n prod-shop pod001-web',
    );

    // 4. RBAC: a teammate without the approver role cannot approve (403 from the API server, not the webhook) ...
    const teammate = await netguard('bob', 'netguard exception approve -n prod-shop pod001-web');
    t.equal(teammate.code, 1);
    t.match(
      teammate.stderr,
      /^Approving prod-shop\/pod001-web:\n {2}target: {7}deployment\/web\n {2}rules: {8}POD001\n {2}expires: {6}2026-12-06T09:00:00Z \(14 days left\)\n/,
      'without a terminal the summary goes to stderr first',
    );
    t.equal(
      teammate.stderr.split('\n').at(-2),
      'netguard: cannot approve GuardrailException prod-shop/pod001-web: Error from server (Forbidden): guardrailexceptions.netguard.dev "pod001-web" is forbidden: ' +
        'User "bob@example.com" cannot patch resource "guardrailexceptions" in API group "netguard.dev" in the namespace "prod-shop"',
    );
    // ... and the requester cannot approve their own.
    const self = await netguard('alice', 'netguard exception approve -n prod-shop pod001-web');
    t.equal(self.code, 1);
    t.match(
      self.stderr,
      /was requested by you \(alice@example\.com\); another member of the approver groups must approve it/,
    );

    // 5. An approver approves, in their own name (learned from SelfSubjectReview).
    now = new Date('2026-11-22T10:00:00Z');
    const approved = await netguard(
      'carol',
      'netguard exception approve -n prod-shop pod001-web',
      'y',
    );
    t.equal(approved.code, 0, approved.stderr);
    t.equal(
      approved.stdout.split('\n').slice(-2)[0],
      'guardrailexception.netguard.dev/pod001-web approved by carol@example.com: POD001 waived for deployment/web in prod-shop until 2026-12-06T09:00:00Z',
    );
    t.match(
      approved.stdout,
      /^Approving prod-shop\/pod001-web:\n[\s\S]*\nApprove it\? \[y\/N\] y\n/,
    );
    t.equal(
      api.get(EXCEPTIONS_PATH, NAMESPACE, 'pod001-web')?.['spec'].approvedBy,
      'carol@example.com',
    );
    await until(
      () => waiverNamed('pod001-web')?.approved === true,
      "the approval in netguard's cache",
    );

    // 6. Admitted, with a warning that names the waiver and its end.
    const admitted = await kubectl('alice', 'create', web);
    t.ok(admitted.ok, admitted.lines.join('\n'));
    t.same(admitted.lines, [
      'Warning: netguard POD001: spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier (waived by prod-shop/pod001-web until 2026-12-06T09:00:00Z (14 days left))',
      'deployment.apps/web created',
    ]);

    // 7. At warnBefore (7 days left): Events on the waiver and on the Deployment; the metric says when.
    now = new Date('2026-11-29T09:00:00Z');
    const expiring = (await expiry.tick()) as Obj[];
    t.same(
      expiring.map((event) => [
        event['metadata'].namespace,
        event['involvedObject'].kind,
        event['involvedObject'].name,
        event['reason'],
      ]),
      [
        [NAMESPACE, 'GuardrailException', 'pod001-web', 'WaiverExpiring'],
        [NAMESPACE, 'Deployment', 'web', 'WaiverExpiring'],
      ],
    );
    const expiringMessage =
      'Waiver prod-shop/pod001-web (owner team-shop@example.com) expires on 2026-12-06T09:00:00Z (7 days left); then POD001 is enforced on deployment/web again. Fix it, or have a renewal approved: netguard exception renew -n prod-shop pod001-web --expires 7d';
    t.equal(expiring[1]?.['message'], expiringMessage);
    t.equal(
      expiring[1]?.['involvedObject'].uid,
      api.get(DEPLOYMENTS.replace(`/namespaces/${NAMESPACE}`, ''), NAMESPACE, 'web')?.['metadata']
        .uid,
      'kubectl describe finds it by uid',
    );
    t.same(await expiry.tick(), [], 'said once');
    t.ok(
      api.requests.some(
        (r) =>
          r.method === 'POST' &&
          r.path === `/api/v1/namespaces/${NAMESPACE}/events` &&
          r.user === NETGUARD_SA,
      ),
      'written as netguard, allowed by its ClusterRole',
    );
    transcript.push(
      '$ kubectl get events -n prod-shop',
      ...expiring.map(
        (event) =>
          `Warning   ${event['reason']}   ${event['involvedObject'].kind.toLowerCase()}/${event['involvedObject'].name}   ${event['message']}`,
      ),
    );
    const scrape = await metrics.registry.metrics();
    const series = scrape
      .split('\n')
      .filter((line) => line.startsWith('netguard_exception_expiry_timestamp_seconds{'));
    t.same(series, [
      'netguard_exception_expiry_timestamp_seconds{namespace="prod-shop",name="pod001-web",rule="POD001"} 1796547600',
    ]);
    t.equal(1796547600 - now.getTime() / 1000, 7 * 86400, 'the metric minus now is warnBefore');
    transcript.push('$ curl -s netguard:9090/metrics | grep expiry', ...series);

    // 8. After expiry, an update that keeps the violation is denied: naming the waiver and the renew command.
    now = new Date('2026-12-06T09:00:01Z');
    const expired = (await expiry.tick()) as Obj[];
    t.same(
      expired.map((event) => [event['involvedObject'].name, event['reason']]),
      [
        ['pod001-web', 'WaiverExpired'],
        ['web', 'WaiverExpired'],
      ],
    );
    transcript.push(
      '$ kubectl get events -n prod-shop --field-selector reason=WaiverExpired',
      ...expired.map(
        (event) =>
          `Warning   ${event['reason']}   ${event['involvedObject'].kind.toLowerCase()}/${event['involvedObject'].name}   ${event['message']}`,
      ),
    );
    const update: Obj = structuredClone(web);
    update['spec'].template.spec.containers[0].image = 'registry.example.com/shop/web:1.4.1';
    const lapsed = await kubectl('alice', 'replace', update);
    t.notOk(lapsed.ok);
    const lapsedLines = lapsed.lines.join('\n').split('\n');
    t.equal(
      lapsedLines[0],
      'Error from server (Forbidden): error when replacing "web.yaml": admission webhook "validate.netguard.dev" denied the request: Deployment prod-shop/web violates 1 guardrail (environment production, mode enforce):',
    );
    t.match(
      lapsedLines[1],
      /^- POD001 required-labels at spec\.template\.metadata\.labels: .* \(waiver prod-shop\/pod001-web expired on 2026-12-06T09:00:00Z\)$/,
    );
    t.notMatch(
      lapsed.lines.join('\n'),
      /pre-existing: the object already had this/,
      'not grandfathered any more',
    );
    const renewLine = lapsedLines.at(-1) ?? '';
    t.equal(
      renewLine,
      'Waiver prod-shop/pod001-web expired on 2026-12-06T09:00:00Z; the guardrail applies again, to updates too. Still needed? netguard exception renew -n prod-shop pod001-web --expires 14d',
    );

    // An expired waiver cannot be approved back to life: it is the record; the renewal is what gets approved.
    const revive = await netguard('carol', 'netguard exception approve -n prod-shop pod001-web');
    t.equal(revive.code, 1);
    t.equal(
      revive.stderr,
      'netguard: prod-shop/pod001-web expired on 2026-12-06T09:00:00Z; nothing to approve; file a renewal: netguard exception renew -n prod-shop pod001-web --expires 7d\n',
    );

    // 9. The renew command as printed files a new pending waiver, under a free name, that names the old one.
    const renewed = await netguard('alice', renewLine.replace(/^.*Still needed\? /, ''));
    t.equal(renewed.code, 0, renewed.stderr);
    t.equal(
      renewed.stdout,
      'guardrailexception.netguard.dev/pod001-web-2 (renews pod001-web) created in namespace prod-shop (owner team-shop@example.com).\n' +
        'It is pending: it waives nothing until a member of the approver groups runs:\n' +
        '  netguard exception approve -n prod-shop pod001-web-2\n',
    );
    t.match(api.get(EXCEPTIONS_PATH, NAMESPACE, 'pod001-web-2'), {
      spec: {
        renews: 'pod001-web',
        rules: ['POD001'],
        target: { kind: 'Deployment', name: 'web' },
        requestedBy: 'alice@example.com',
        expires: '2026-12-20T09:00:01Z',
      },
    });
    t.notOk(
      api.get(EXCEPTIONS_PATH, NAMESPACE, 'pod001-web-2')?.['spec'].approvedBy,
      'pending until approved again',
    );
    t.equal(
      api.get(EXCEPTIONS_PATH, NAMESPACE, 'pod001-web')?.['spec'].expires,
      '2026-12-06T09:00:00Z',
      'the expired waiver is kept as the record',
    );

    // The first request, run again, does not collide with the expired waiver either.
    const again = await netguard(
      'alice',
      asPrinted.replace('<why this is needed>', 'Still waiting for the chart 2.0 migration'),
    );
    t.equal(again.code, 0, again.stderr);
    t.match(
      again.stdout,
      /^guardrailexception\.netguard\.dev\/pod001-web-3 created in namespace prod-shop/,
    );

    // docs/exceptions.md tells this walk: each of its console blocks is a slice of this transcript.
    const walked = transcript.join('\n');
    const blocks = [
      ...readFileSync('docs/exceptions.md', 'utf8').matchAll(/```console\n([\s\S]*?)\n```/g),
    ].map((match) => match[1] ?? '');
    t.equal(blocks.length, 8, 'one block per step of the story');
    for (const block of blocks)
      t.ok(
        walked.includes(block),
        `docs/exceptions.md shows what was printed: ${block.split('\n')[0]}`,
      );

    if (process.env['NETGUARD_TRANSCRIPT'] !== undefined)
      writeFileSync(process.env['NETGUARD_TRANSCRIPT'], `${transcript.join('\n')}\n`);
  },
);
