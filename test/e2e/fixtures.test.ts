/**
 * Every realistic fixture (the NetworkPolicy patterns, the rule fixtures, the workloads) goes
 * through the faithful harness, `kubectl apply` against a running netguard, in an observe, a
 * constrain and an enforce namespace. What kubectl prints (admitted, with `Warning:` lines, or
 * denied, and the rule IDs) must equal what the engine says about the object as written (`netguard
 * check`), except where the API server's defaulting really changes what the webhook can see.
 */
import { readdirSync } from 'node:fs';
import jsonpatch from 'fast-json-patch';
import t from 'tap';
import type { AdmissionInput, Decision } from '../../src/engine/types.ts';
import type { KubeObject, Mode } from '../../src/vocabulary.ts';
import { mutate } from '../../src/mutation/mutate.ts';
import { contextFor } from '../helpers/context.ts';
import { loadFixture } from '../helpers/reviews.ts';
import { judge, NAMESPACE_OF, RULE_FIXTURES, rulesOf } from '../rules/judge.ts';
import { REALISTIC, REALISTIC_DIR } from '../rules/realistic-expected.ts';
import { apiServer, withLastApplied, type KubectlResult } from './api-server.ts';
import { renderDeploy, serviceCertificates, startNetguard } from './netguard.ts';
import { skipFileWithoutKubectl } from '../helpers/kubectl.ts';
import { LAB_POLICY } from '../helpers/context.ts';

skipFileWithoutKubectl(t);

const rendered = renderDeploy();
const certs = serviceCertificates();
const MODES = ['observe', 'constrain', 'enforce'] as const;

const metadataOf = (object: KubeObject): Record<string, unknown> => Object(object['metadata']);
const nameOf = (object: KubeObject): string =>
  String(metadataOf(object)['name'] ?? metadataOf(object)['generateName'] ?? '');
const moved = (object: KubeObject, namespace: string): KubeObject =>
  object['kind'] === 'Namespace'
    ? { ...object, metadata: { ...metadataOf(object), name: namespace } }
    : { ...object, metadata: { ...metadataOf(object), namespace } };

/** What a user sees, in both worlds: the verdict and the rule IDs named. */
const seenOffline = (decision: Decision): string =>
  `${!decision.allowed ? 'denied' : decision.findings.length > 0 ? 'allowed + warnings' : 'allowed'} ${rulesOf(decision).join(',')}`.trim();
const seenByKubectl = (result: KubectlResult): string => {
  const rules = [
    ...new Set(
      result.lines.flatMap((line) =>
        [...line.matchAll(/\b(?:NP|POD|NS|EX)\d{3}\b/g)].map((m) => m[0]),
      ),
    ),
  ].sort();
  const verdict = !result.ok
    ? 'denied'
    : result.lines.some((line) => line.startsWith('Warning:'))
      ? 'allowed + warnings'
      : 'allowed';
  return `${verdict} ${rules.join(',')}`.trim();
};

interface Case {
  readonly label: string;
  readonly target: KubeObject;
  readonly others: readonly KubeObject[];
}

/** Rule fixtures: the last document is judged, earlier ones are the cluster around it. */
const ruleCases = (dir: string): Case[] =>
  readdirSync(dir)
    .sort()
    .map((file) => {
      const documents = loadFixture(`${dir}/${file}`);
      const target = documents.at(-1) ?? {};
      return { label: file, target, others: documents.slice(0, -1) };
    });

const realisticCases = (): Case[] =>
  REALISTIC.map((c) => {
    const documents = loadFixture(`${REALISTIC_DIR}/${c.file}`);
    const target = documents.find((doc) => nameOf(doc) === c.name) ?? {};
    return {
      label: `${c.file} ${c.name}`,
      target,
      others: documents.filter((doc) => doc !== target),
    };
  });

/**
 * Where the webhook cannot see what `netguard check` sees: NP009 fires on `policyTypes` omitted,
 * but the API server fills policyTypes in (networking/v1 SetDefaults_NetworkPolicy) before
 * any webhook runs, so in admission NP009 never fires; the rule's docs say it speaks in `netguard
 * check`. Everything else the defaulting touches (protocol TCP, inferred policyTypes) leaves the
 * verdict alone.
 */
const everyMode = (seen: string): Record<Mode, string> => ({
  observe: seen,
  constrain: seen,
  enforce: seen,
});
const DIFFERENCES: Readonly<Record<string, Partial<Record<Mode, string>>>> = {
  'np009-fires.yaml': everyMode('allowed'),
  'np001-fires-implied-egress.yaml': {
    observe: 'allowed + warnings NP001',
    constrain: 'allowed + warnings NP001',
    enforce: 'denied NP001',
  },
};

t.test(
  'realistic fixtures: kubectl through the faithful API server says what netguard check says',
  async (t) => {
    let objects: () => KubeObject[] = () => [];
    const netguard = await startNetguard(t, certs, () => objects(), LAB_POLICY);
    const cases = [
      ...realisticCases(),
      ...ruleCases(RULE_FIXTURES),
      ...ruleCases('test/fixtures/workloads'),
    ];
    t.ok(cases.length > 60, `${cases.length} fixtures`);
    for (const c of cases) {
      for (const mode of MODES) {
        const namespace = NAMESPACE_OF[mode];
        const others = c.others.map((o) => moved(o, namespace));
        const kubectl = apiServer({
          rendered,
          caBundle: certs.caBundle,
          service: () => ({ host: '127.0.0.1', port: netguard.port }),
        });
        objects = kubectl.objects;
        // The namespace as it was before netguard (a Namespace document in the fixture, else a bare one).
        if (!others.some((o) => o['kind'] === 'Namespace'))
          kubectl.seed(
            `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "${namespace}"}}`,
          );
        for (const other of others) kubectl.seed(JSON.stringify(other));
        const target = moved(c.target, namespace);
        const text = JSON.stringify(target);
        const result =
          metadataOf(target)['name'] === undefined
            ? await kubectl.create('fixture.yaml', text)
            : await kubectl.apply('fixture.yaml', text);
        kubectl.close();
        const offline = seenOffline(judge(c.target, { namespace, others: c.others }));
        const expected = DIFFERENCES[c.label]?.[mode] ?? offline;
        t.equal(
          seenByKubectl(result),
          expected,
          `${c.label} in ${mode}${expected === offline ? '' : ` (check says: ${offline})`}`,
        );
      }
    }
  },
);

t.test(
  'Namespace fixtures: what the API server stores is the NS001 patch applied to what kubectl sent',
  async (t) => {
    let objects: () => KubeObject[] = () => [];
    const netguard = await startNetguard(t, certs, () => objects(), LAB_POLICY);
    const dir = 'test/fixtures/namespaces';
    for (const file of readdirSync(dir).sort()) {
      const [namespace] = loadFixture(`${dir}/${file}`);
      if (namespace === undefined) continue;
      const kubectl = apiServer({
        rendered,
        caBundle: certs.caBundle,
        service: () => ({ host: '127.0.0.1', port: netguard.port }),
      });
      objects = kubectl.objects;
      const result = await kubectl.apply(file, JSON.stringify(namespace));
      kubectl.close();
      const name = nameOf(namespace);
      t.same(result, { lines: [`namespace/${name} created`], ok: true }, file);
      const sent = withLastApplied(namespace);
      const input: AdmissionInput = {
        uid: 'offline',
        kind: 'Namespace',
        operation: 'CREATE',
        namespace: name,
        name,
        object: sent,
        oldObject: undefined,
        user: { username: 'kubernetes-admin', groups: [] },
        dryRun: false,
      };
      const offline = jsonpatch.applyPatch(
        structuredClone(sent),
        mutate(input, contextFor()).patch,
        true,
        false,
      ).newDocument;
      t.same(
        metadataOf(kubectl.get('Namespace', undefined, name) ?? {})['annotations'],
        metadataOf(offline)['annotations'],
        `${file}: annotations as the engine's own patch gives them, kubectl's kept`,
      );
    }
  },
);

t.test(
  'a waiver request through the API server: /mutate sets requestedBy from the requester, not the file',
  async (t) => {
    let objects: () => KubeObject[] = () => [];
    const netguard = await startNetguard(t, certs, () => objects(), LAB_POLICY);
    const kubectl = apiServer({
      rendered,
      caBundle: certs.caBundle,
      service: () => ({ host: '127.0.0.1', port: netguard.port }),
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    });
    t.teardown(() => kubectl.close());
    objects = kubectl.objects;
    kubectl.seed('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod-crawl"}}');
    const [request] = loadFixture('test/fixtures/exceptions/request.yaml');
    const forged = {
      ...request,
      spec: { ...Object(request?.['spec']), requestedBy: 'carol@example.com' },
    };
    const result = await kubectl.apply('waiver.yaml', JSON.stringify(forged));
    t.same(result.lines.at(-1), 'guardrailexception.netguard.dev/np004-crawler-egress created');
    t.match(
      kubectl.get('GuardrailException', 'prod-crawl', 'np004-crawler-egress'),
      {
        metadata: {
          annotations: {
            'kubectl.kubernetes.io/last-applied-configuration': /"requestedBy":"carol@example.com"/,
          },
        },
        spec: { requestedBy: 'alice@example.com' },
      },
      "stored with the real requester; kubectl's annotation still shows what the file said",
    );
  },
);
