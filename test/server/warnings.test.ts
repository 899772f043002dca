import fc from 'fast-check';
import t from 'tap';
import { sanitiseWarnings, warningLine } from '../../src/text.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { TEST_CLOCK } from '../helpers/context.ts';
import { startWebhook } from '../helpers/webhook.ts';
import '../helpers/property.ts';

// What the API server refuses in a warning (it drops the whole warning): C0, DEL, C1, and
// kubectl would break the line on U+2028/U+2029 too.
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const codePoints = (text: string): number => Array.from(text).length;

const waiver = (): KubeObject => loadOne('test/fixtures/exceptions/request.yaml', TEST_CLOCK);
const spec = (object: KubeObject): Record<string, unknown> =>
  object['spec'] as Record<string, unknown>;

t.test(
  '/mutate warnings built from a username and approvedBy are one line of at most 256 characters',
  async (t) => {
    const webhook = await startWebhook(t);
    const hostile = `mallory\nWarning: approved by security\r\t\u0085\u2028${'x'.repeat(1_100)}`;
    // CREATE with a forged requestedBy: EX004 overwrites it and says so, naming both values.
    const forged = waiver();
    spec(forged)['requestedBy'] = `carol\n${'y'.repeat(400)}`;
    const created = await webhook.post(
      '/mutate',
      reviewFor(forged, { user: { username: hostile, groups: ['system:authenticated'] } }),
    );
    t.equal(created.status, 200);
    const createdWarnings: string[] = created.json().response.warnings;
    t.equal(createdWarnings.length, 1);
    t.match(
      createdWarnings[0],
      /^netguard EX004: spec\.requestedBy: set to mallory Warning: approved by security x+…$/,
    );

    // UPDATE that widens an approved waiver by someone who may not approve: approval removed, warning names the approver.
    const old = waiver();
    Object.assign(spec(old), {
      requestedBy: 'alice@example.com',
      approvedBy: `carol\u0085\n${'z'.repeat(1_000)}`,
    });
    const widened = structuredClone(old);
    spec(widened)['rules'] = ['NP004', 'NP005'];
    const updated = await webhook.post(
      '/mutate',
      reviewFor(widened, {
        operation: 'UPDATE',
        oldObject: old,
        user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      }),
    );
    t.equal(updated.status, 200);
    const updatedWarnings: string[] = updated.json().response.warnings;
    t.equal(updatedWarnings.length, 1);
    t.match(updatedWarnings[0], /^netguard EX004: spec\.approvedBy: approval by carol z+…$/);

    for (const warning of [...createdWarnings, ...updatedWarnings]) {
      t.notMatch(warning, NOT_ONE_LINE, 'no control character or line separator');
      t.ok(codePoints(warning) <= 256, `cut at 256 characters (${codePoints(warning)})`);
    }
  },
);

t.test(
  'the sanitiser: any text becomes one well-formed line of at most 256 characters',
  async (t) => {
    t.equal(warningLine('a\u0000b\u001fc\u007fd\u0080e\u009ff\u2028g\u2029h'), 'a b c d e f g h');
    t.equal(warningLine('lone \ud800 half'), 'lone \ufffd half');
    const emoji = '😀'.repeat(300);
    const cut = warningLine(emoji);
    t.equal(codePoints(cut), 256, 'counted in characters');
    t.ok(cut.endsWith('😀…'), 'never half a surrogate pair');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (text) => {
        const line = warningLine(text);
        return !NOT_ONE_LINE.test(line) && codePoints(line) <= 256 && !LONE_SURROGATE.test(line);
      }),
    );
    const many = sanitiseWarnings(Array.from({ length: 40 }, (_, i) => `${i} ${'w'.repeat(300)}`));
    t.equal(many.length, 16, '16 cut warnings of 256 fit in 4 KiB');
    t.ok(many.join('').length <= 4096);
  },
);
