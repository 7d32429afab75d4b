// The shipped JSON Schema is what editors use: it must be current and accept every example.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { schemaText } from '../src/cli/commands/schema.ts';
// Config knows no workload of its own: like the CLI, this test hands it the built-ins' definitions.
import '../src/workloads/index.ts';

const root = new URL('..', import.meta.url).pathname;

test('schema/benchmark.schema.json is what `streambench schema` prints (regenerate with it)', () => {
  assert.equal(readFileSync(`${root}/schema/benchmark.schema.json`, 'utf8'), schemaText());
});

test('the schema accepts every example and rejects a misspelt key, as an editor would', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(schemaText()) as object);
  const examples = readdirSync(`${root}/examples`).filter((f) => f.endsWith('.yaml'));
  assert.ok(examples.length > 0);
  for (const f of examples) {
    const doc: unknown = parse(readFileSync(`${root}/examples/${f}`, 'utf8'));
    assert.ok(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`);
  }
  assert.equal(validate({ name: 'x', workload: { type: 'command', argv: ['true'] }, matrix: {}, repet: 2 }), false);
});

test('schema/point.schema.json is what `streambench schema --point` prints, and it takes the records of a set recorded before conditions existed', async () => {
  const { pointSchemaText } = await import('../src/cli/commands/schema.ts');
  assert.equal(readFileSync(`${root}/schema/point.schema.json`, 'utf8'), pointSchemaText());
  const ajv = new Ajv({ strict: false });
  const validate = ajv.compile(JSON.parse(pointSchemaText()) as object);
  const dir = `${root}/test/fixtures/sets/stream-matrix/points`;
  for (const d of readdirSync(dir)) {
    const rec = JSON.parse(readFileSync(`${dir}/${d}/point.json`, 'utf8')) as unknown;
    assert.ok(validate(rec), `${d}: ${ajv.errorsText(validate.errors)}`);
  }
  // A condition's code is one of the declared ones.
  const bad = { ...(JSON.parse(readFileSync(`${dir}/${readdirSync(dir)[0]}/point.json`, 'utf8')) as object), conditions: { checked: [], notChecked: [], found: [{ code: 'hot', severity: 'flag', reason: 'x' }] } };
  assert.equal(validate(bad), false);
});
