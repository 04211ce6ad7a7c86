import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * An Ajv holding the plugin's OpenAPI document (src/schema/openapi.yaml) under the id
 * `openapi`: a schema is `openapi#/components/schemas/<Name>`. Formats are not checked
 * (Ajv would need ajv-formats); `strict: false` because OpenAPI adds keywords to JSON Schema.
 */
export function openApiAjv(): Ajv {
  const spec = parseYaml(readFileSync(resolvePath(__dirname, '../schema/openapi.yaml'), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(spec, 'openapi');
  return ajv;
}
