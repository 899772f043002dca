import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

type Schema = { [key: string]: unknown };

/**
 * A CRD's structural schema as strict JSON Schema. The API server silently prunes fields a CRD
 * does not declare, so a writer relying on one would lose it without an error: here an
 * undeclared field is a validation failure instead. `x-kubernetes-*` markers are dropped.
 */
function strict(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties' && value !== null && typeof value === 'object') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, sub]) => [name, strict(sub)]),
      );
    } else if (
      (key === 'items' || key === 'additionalProperties') &&
      value !== null &&
      typeof value === 'object'
    ) {
      out[key] = strict(value as Schema);
    } else out[key] = value;
  }
  const declaresFreeForm =
    schema['properties'] === undefined && schema['additionalProperties'] === undefined;
  if (
    schema['type'] === 'object' &&
    !declaresFreeForm &&
    schema['additionalProperties'] === undefined
  )
    out['additionalProperties'] = false;
  return out;
}

/** A validator for one served version of a vendored CRD (test/fixtures/schemas). */
export function crdValidator(path: string, version: string): ValidateFunction {
  const crd = parse(readFileSync(path, 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  const served = crd.spec.versions.find((v) => v.name === version);
  if (served === undefined) throw new Error(`${path}: no version ${version}`);
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { int32: true, int64: true } });
  return ajv.compile(strict(served.schema.openAPIV3Schema));
}
