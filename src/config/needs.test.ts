import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeNeeds, findNeeds } from './needs.ts';

test('a need is found as a program on PATH (executable only) or as a file by its absolute path, else reported with its package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-needs-'));
  writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
  chmodSync(join(dir, 'tool'), 0o755);
  writeFileSync(join(dir, 'plain'), 'not executable');
  const found = findNeeds(
    [
      { what: 'the tool', check: 'tool', debian: 'tool-pkg' },
      { what: 'a file that is not executable', check: 'plain', debian: 'plain-pkg' },
      { what: 'a driver', check: join(dir, 'plain') },
      { what: 'a missing driver', check: join(dir, 'gone.so'), debian: 'driver-pkg' },
    ],
    dir,
  );
  assert.deepEqual(
    found.map((f) => f.at),
    [join(dir, 'tool'), undefined, join(dir, 'plain'), undefined],
  );
  const lines = describeNeeds(found);
  assert.equal(lines[0], `the tool: found (${join(dir, 'tool')})`);
  assert.match(lines[1]!, /^a file that is not executable: NOT FOUND on this machine \(plain\); on Debian: apt-get install plain-pkg/);
  assert.match(lines[3]!, /NOT FOUND .*apt-get install driver-pkg/);
});
