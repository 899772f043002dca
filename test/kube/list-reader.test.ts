import fc from 'fast-check';
import t from 'tap';
import { ListReplyError, listReader } from '../../src/kube/list-reader.ts';
import '../helpers/property.ts';

/** Feeds `text` to a reader in the given chunk sizes (cycled); returns the items and envelope. */
function read(text: string, sizes: readonly number[], maxItemBytes?: number) {
  const items: unknown[] = [];
  const reader = listReader((item) => items.push(item), { maxItemBytes });
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const size = Math.max(1, sizes[n % sizes.length] ?? 1);
    reader.write(bytes.subarray(at, at + size));
    at += size;
  }
  return { items, envelope: reader.end() };
}

// Strings full of what a scanner can trip on: quotes, backslashes, brackets, multi-byte text.
const tricky = fc.string({
  unit: fc.constantFrom(
    '"',
    '\\',
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    'a',
    'é',
    '€',
    '𝄞',
    ' ',
    '\n',
    'items',
  ),
  maxLength: 12,
});
// Keys without escapes: Node 24's V8 JSON.parse can return a wrong key for an escaped one (such
// as "\n") after parsing an object of the same shape with another escape of that length (such
// as "\\"); escapes are still read in every string value.
const key = fc.string({
  unit: fc.constantFrom('{', '}', '[', ']', ',', ':', 'a', 'é', '€', '𝄞', ' ', 'items'),
  maxLength: 12,
});
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(key, tie('json'), { maxKeys: 3 }),
  ),
})).json;
const item = fc.dictionary(key, value, { maxKeys: 4 });

t.test('a list read in any chunks gives the same items and envelope as JSON.parse', async (t) => {
  fc.assert(
    fc.property(
      fc.array(item, { maxLength: 6 }),
      tricky,
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (items, token, sizes, pretty) => {
        const list = {
          kind: 'JobList',
          apiVersion: 'batch/v1',
          metadata: { continue: token, resourceVersion: '42', items: ['not the items'] },
          items,
        };
        const text = pretty ? JSON.stringify(list, null, 2) : JSON.stringify(list);
        const got = read(text, sizes);
        t.same(got.items, items);
        t.same(got.envelope, { ...list, items: [] });
      },
    ),
  );
});

t.test('the items key may come before the metadata, or be null', async (t) => {
  const got = read('{"items":[{"a":1},{"b":"}"}],"metadata":{"continue":"x"}}', [3]);
  t.same(got.items, [{ a: 1 }, { b: '}' }]);
  t.same(got.envelope, { items: [], metadata: { continue: 'x' } });
  const empty = read('{"kind":"List","items":null}', [5]);
  t.same(empty.items, []);
  t.same(empty.envelope, { kind: 'List', items: null });
});

t.test('a reply that is not a list of objects is refused with what is wrong', async (t) => {
  const refused = (text: string, words: RegExp, maxItemBytes?: number) =>
    t.throws(() => read(text, [7], maxItemBytes), { constructor: ListReplyError, message: words });
  refused('{"items":[1,2]}', /an item is not an object/);
  refused('{"items":["x"]}', /an item is not an object/);
  refused('{"items":[[]]}', /an item is not an object/);
  refused('{"items":[{"a":1}', /ended in the middle/);
  refused('{"items":[{"a":}]}', /an item is not valid JSON/);
  refused('{"items":[]}}', /unbalanced/);
  refused(`{"items":[{"a":"${'x'.repeat(100)}"}]}`, /an item passes 64 bytes/, 64);
  refused(`{"metadata":{"pad":"${'x'.repeat(1_100_000)}"},"items":[]}`, /outside items pass/);
});

t.test('a page of large items never holds more than one of them as text', async (t) => {
  // Each item is 1 MB of text; what onItem keeps is its name only.
  const big = 'x'.repeat(1_000_000);
  const names: string[] = [];
  const reader = listReader((item) => names.push(String(item['name'])));
  reader.write(Buffer.from('{"kind":"JobList","items":['));
  let largestPending = 0;
  for (let n = 0; n < 20; n++) {
    const bytes = Buffer.from(`${n === 0 ? '' : ','}{"name":"job-${n}","pad":"${big}"}`);
    // Chunks of 64 KiB, as a socket delivers them.
    for (let at = 0; at < bytes.length; at += 65_536) reader.write(bytes.subarray(at, at + 65_536));
    largestPending = Math.max(largestPending, names.length === n + 1 ? 0 : 1);
  }
  reader.write(Buffer.from('],"metadata":{"continue":""}}'));
  t.same(reader.end(), { kind: 'JobList', items: [], metadata: { continue: '' } });
  t.equal(names.length, 20, 'every item was handed over as soon as it closed');
  t.equal(names[19], 'job-19');
  t.equal(largestPending, 0, 'no item waited for the next one to arrive');
});
