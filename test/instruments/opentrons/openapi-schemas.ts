import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * The Opentrons HTTP API's own schemas (the committed subset of the 8.2.0 reference), compiled
 * with a JSON Schema 2020-12 validator, for the fake robot to check every request and answer.
 */

interface OpenApiSubset {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}
interface Operation {
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

const DOC_ID = 'opentrons-http-api';
const doc = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../fixtures/opentrons/openapi-subset.json'), 'utf8'),
) as OpenApiSubset;

// OpenAPI's `discriminator` and other annotations are not JSON Schema keywords: not strict.
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
ajv.addFormat('binary', true);
ajv.addSchema({ $id: DOC_ID, components: doc.components });

const compiled = new Map<string, ValidateFunction>();

function validatorFor(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    const ref = (schema as { $ref?: string }).$ref;
    validate = ref ? ajv.compile({ $ref: `${DOC_ID}${ref}` }) : ajv.compile(schema as object);
    compiled.set(key, validate);
  }
  return validate;
}

function describe(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('; ');
}

function operation(pathTemplate: string, method: string): Operation {
  const op = doc.paths[pathTemplate]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${pathTemplate} is not in the committed API subset`);
  return op;
}

/** Problems with a request body, or [] when it matches the operation's schema. */
export function checkRequest(pathTemplate: string, method: string, contentType: string, body: unknown): string[] {
  const content = operation(pathTemplate, method).requestBody?.content;
  if (!content) return body === undefined ? [] : [`${method} ${pathTemplate} takes no body`];
  const schema = content[contentType]?.schema;
  if (!schema) return [`${method} ${pathTemplate} does not accept ${contentType}`];
  const validate = validatorFor(schema);
  return validate(body) ? [] : [`${method} ${pathTemplate} request: ${describe(validate)}`];
}

/** Problems with a response body for that status, or [] when it matches. */
export function checkResponse(pathTemplate: string, method: string, status: number, body: unknown): string[] {
  const response = operation(pathTemplate, method).responses[String(status)];
  if (!response) return [`${method} ${pathTemplate} has no ${status} response`];
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return [];
  const validate = validatorFor(schema);
  return validate(body) ? [] : [`${method} ${pathTemplate} ${status} response: ${describe(validate)}`];
}

/** Checks a value against one named component schema (e.g. "CompletedAnalysis"). */
export function checkSchema(name: string, value: unknown): string[] {
  const validate = validatorFor({ $ref: `#/components/schemas/${name}` });
  return validate(value) ? [] : [`${name}: ${describe(validate)}`];
}
