// Writes the synthetic traces of examples/traces/ (src/stream/trace-gen.ts says what each is):
// npx tsx scripts/gen-traces.ts. src/stream/trace-gen.test.ts checks the files are what it writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_TRACES, shippedTraces } from '../src/stream/trace-gen.ts';

const dir = fileURLToPath(new URL('../examples/traces/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(shippedTraces())) {
  writeFileSync(join(dir, name), text);
  process.stdout.write(`${join('examples/traces', name)}: ${SHIPPED_TRACES[name]!.doc} (${text.split('\n').length - 1} opportunities)\n`);
}
