// Terminal tables: numbers with the digits that tell a column's values apart, and a line when rounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../base/errors.ts';
import { formatColumn, formatNumber, metricMatcher, renderTable } from './table.ts';

test('each column gets the fewest digits (3 to 7) that keep its distinct values distinct', () => {
  // Two points whose CPU differs in the fourth digit: 3 digits would show both as 12.3.
  assert.deepEqual(formatColumn([12.34, 12.31, null, 'n/a']), { cells: ['12.34', '12.31', '-', 'n/a'], digits: undefined });
  assert.deepEqual(formatColumn([12.34, 12.36]), { cells: ['12.3', '12.4'], digits: 3 });
  assert.deepEqual(formatColumn([12.341, 12.346]), { cells: ['12.34', '12.35'], digits: 4 });
  assert.deepEqual(formatColumn([1.23456, 1.23457]), { cells: ['1.23456', '1.23457'], digits: undefined });
  assert.deepEqual(formatColumn([0.123456781, 0.123456789]).cells, ['0.1234568', '0.1234568'], 'at most 7 digits, even when they do not suffice');
  assert.deepEqual(formatColumn([3.14159, 2.71828]), { cells: ['3.14', '2.72'], digits: 3 });
  // Integers and the integer part are never rounded away.
  assert.deepEqual(formatColumn([123456.7, 7, 0.5]).cells, ['123457', '7', '0.5']);
  assert.equal(formatNumber(0.000123456, 3), '0.000123');
});

test('a table says when it rounded, and where the full values are', () => {
  const t = renderTable(
    ['x', 'cpu'],
    [
      ['a', 12.341],
      ['b', 12.346],
      ['c', 3],
    ],
    { fullValues: 'results export has them in full' },
  );
  assert.deepEqual(t.split('\n'), ['x  cpu', '-  -----', 'a  12.34', 'b  12.35', 'c  3', "(numbers rounded to 4 significant digits, the fewest that keep each column's values apart; results export has them in full)"]);
  // Nothing rounded: no line.
  assert.equal(renderTable(['x'], [[1.5], [2]], { fullValues: 'x' }).split('\n').length, 4);
  assert.match(renderTable(['n'], [[1], [2], [3]], { maxRows: 2 }), /\.\.\. and 1 more row\(s\)$/);
});

test('--metrics: globs (commas for several) and /regular expressions/; a bad one is an input error', () => {
  const names = ['client.fps', 'client.bitrate', 'guest.proc.server.cpu_pct', 'guest.sys.cpu_pct', 'latency.p50'];
  const pick = (...p: string[]) => names.filter(metricMatcher(p));
  assert.deepEqual(pick('client.*'), ['client.fps', 'client.bitrate']);
  assert.deepEqual(pick('*.cpu_pct'), ['guest.proc.server.cpu_pct', 'guest.sys.cpu_pct']);
  assert.deepEqual(pick('latency.p50,client.fps'), ['client.fps', 'latency.p50']);
  assert.deepEqual(pick('client.fp?'), ['client.fps']);
  // A glob's dot is a dot: 'client.fps' does not match 'clientXfps'.
  assert.deepEqual(['clientXfps'].filter(metricMatcher(['client.fps'])), []);
  assert.deepEqual(pick('/proc\\.[^.]+\\.cpu/'), ['guest.proc.server.cpu_pct']);
  assert.deepEqual(pick('/^CLIENT/i', 'latency.*'), ['client.fps', 'client.bitrate', 'latency.p50']);
  assert.throws(
    () => metricMatcher(['/(/']),
    (e: unknown) => e instanceof InputError && /--metrics: '\/\(\/' is not a regular expression/.test(e.message),
  );
  assert.throws(() => metricMatcher(['a,,b']), InputError);
});
