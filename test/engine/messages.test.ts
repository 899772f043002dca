import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor } from '../helpers/context.ts';
import { loadOne } from '../helpers/reviews.ts';

const input = (object: KubeObject): AdmissionInput => ({
  uid: 'u',
  kind: 'Pod',
  operation: 'CREATE',
  namespace: 'prod-x',
  name: '',
  object,
  oldObject: undefined,
  user: { username: 'alice@example.com', groups: [] },
  dryRun: false,
});

t.test(
  'a generateName Pod: the suggested exception targets its workload or a selector, never the prefix',
  async (t) => {
    const pod = loadOne('test/fixtures/adversarial/generate-name-pod.yaml');
    const owned = validate(input(pod), contextFor());
    t.equal(owned.allowed, false, 'a user wrote the ownerReference: it does not downgrade');
    const last = owned.message?.split('\n').at(-1);
    t.equal(
      last,
      'Need more time? netguard exception request -n prod-x --rule POD001,POD003 --target pod --selector app=web --expires 14d --reason "<why this is needed>" --apply',
      'nor does it earn a waiver of the workload it names (which would not match): a selector does',
    );
    t.notMatch(owned.message, /pod\/web-7d9c8b5f4-/);

    const bare = structuredClone(pod);
    delete (bare['metadata'] as Record<string, unknown>)['ownerReferences'];
    const selected = validate(input(bare), contextFor()).message?.split('\n').at(-1);
    t.equal(
      selected,
      'Need more time? netguard exception request -n prod-x --rule POD001,POD003 --target pod --selector app=web --expires 14d --reason "<why this is needed>" --apply',
    );
  },
);
