import assert from 'node:assert/strict';
import fc from 'fast-check';
import t from 'tap';
import { pruneJson, type DroppedPath } from '../../src/kube/json-prune.ts';
import '../helpers/property.ts';

/** The same pruning on a parsed value: what pruneJson's text must parse to. */
function pruned(value: unknown, dropped: DroppedPath, path: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((entry) => pruned(entry, dropped, [...path, '*']));
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (dropped([...path, key])) continue;
    kept[key] = pruned(entry, dropped, [...path, key]);
  }
  return kept;
}

// Keys and strings a byte scanner can trip on: quotes, backslashes, brackets, escapes, non-ASCII.
const text = fc.string({
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
    'b',
    'é',
    '𝄞',
    ' ',
    '\n',
    '\u0001',
  ),
  maxLength: 6,
});
const key = fc.oneof(fc.constantFrom('a', 'b', 'env', 'metadata'), text);
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 3 }),
    fc.dictionary(key, tie('json'), { maxKeys: 4 }),
  ),
})).json;

t.test(
  'pruneJson writes the value without the dropped members, however it is spelled',
  async (t) => {
    t.doesNotThrow(
      () =>
        fc.assert(
          fc.property(
            fc.dictionary(key, value, { maxKeys: 5 }),
            fc.array(fc.array(fc.oneof(key, fc.constant('*')), { minLength: 1, maxLength: 3 }), {
              maxLength: 4,
            }),
            fc.constantFrom(0, 1, 2),
            (object, droppedPaths, indent) => {
              const dropped: DroppedPath = (path) =>
                droppedPaths.some(
                  (entry) =>
                    entry.length === path.length && entry.every((part, n) => part === path[n]),
                );
              const source = Buffer.from(`  ${JSON.stringify(object, null, indent)}  `);
              const copy = pruneJson(source, 2, source.length - 2, dropped);
              // Compared as text, byte for byte: the copy keeps every kept key and value as written
              // and JSON.stringify writes them the same way. (Not through JSON.parse: Node 24's V8
              // can return a wrong key for an escaped one, such as "\n", after it parsed an object of
              // the same shape whose key was another escape of that length, such as "\\".) Thrown,
              // not t.same, so fast-check sees a failure and shrinks it.
              assert.equal(copy, JSON.stringify(pruned(object, dropped)));
            },
          ),
        ),
      'as JSON.stringify writes it',
    );
  },
);

t.test('a dropped member leaves no trace, first, middle or last', async (t) => {
  const drop: DroppedPath = (path) => path.at(-1) === 'x';
  const cases: [string, string][] = [
    ['{"x":1,"a":2}', '{"a":2}'],
    ['{"a":1,"x":{"deep":[1,{"x":2}]},"b":[]}', '{"a":1,"b":[]}'],
    ['{"a":[{"x":"}","y":"\\"x\\""}],"x":[]}', '{"a":[{"y":"\\"x\\""}]}'],
    ['{ "x" : 1 }', '{}'],
  ];
  for (const [input, expected] of cases) {
    const bytes = Buffer.from(input);
    t.equal(pruneJson(bytes, 0, bytes.length, drop), expected, input);
  }
});
