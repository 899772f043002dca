import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * A validator for a vendored JSON schema (test/fixtures/schemas). Draft-04 schemas (SARIF) spell
 * their id `id`; ajv 8 reads them once that is `$id`. SARIF's language pattern is not valid as a
 * unicode regular expression, hence unicodeRegExp off.
 */
export function schemaValidator(path: string): ValidateFunction {
  const {
    $schema: _dialect,
    id,
    ...schema
  } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats.default(ajv);
  return ajv.compile(id === undefined ? schema : { ...schema, $id: id });
}
