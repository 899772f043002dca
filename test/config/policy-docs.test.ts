import { readFileSync } from 'node:fs';
import t from 'tap';
import { z } from 'zod';
import { guardrailPolicySchema } from '../../src/config/schema.ts';

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
};

/** Every leaf field path of the schema, as docs/policy.md writes it (`spec.environments[].name`). */
function fieldPaths(schema: JsonSchema, prefix: string): string[] {
  const paths: string[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const inner = child.items ?? child;
    // Containers are documented through their fields; a label selector is Kubernetes' own type.
    if (inner.properties === undefined || key === 'selector') paths.push(path);
    else paths.push(...fieldPaths(inner, child.items === undefined ? path : `${path}[]`));
  }
  return paths;
}

t.test('docs/policy.md documents every field of the policy schema', async (t) => {
  const doc = readFileSync('docs/policy.md', 'utf8');
  const paths = fieldPaths(
    z.toJSONSchema(guardrailPolicySchema, { io: 'input' }) as JsonSchema,
    '',
  );
  t.ok(
    paths.includes('spec.environments[].exceptionMaxDuration'),
    'the walk reaches nested fields',
  );
  const missing = paths.filter((path) => !doc.includes(`\`${path}\``));
  t.same(missing, [], 'every field has a row');
});
