// The route table the GUI's server and the agents share.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findRoute, matchPath } from './route-table.ts';

test('matchPath: exact parts equal, :name parts taken URL-decoded, a bad escape or another length is no match', () => {
  assert.deepEqual(matchPath('/v1/time', '/v1/time'), {});
  assert.deepEqual(matchPath('/v1/sessions/:id/stop', '/v1/sessions/p%2E1/stop'), { id: 'p.1' });
  assert.equal(matchPath('/v1/sessions/:id/stop', '/v1/sessions/p1/stop/x'), undefined);
  assert.equal(matchPath('/v1/sessions/:id/stop', '/v1/sessions/p1/batches'), undefined);
  assert.equal(matchPath('/v1/procs/:id', '/v1/procs/%E0%A4%A'), undefined);
});

test('findRoute: the first route of the method and path, in table order; else whether the path has a route of another method', () => {
  const routes = [
    { method: 'POST', path: '/v1/procs/end', name: 'end' },
    { method: 'GET', path: '/v1/procs/:id', name: 'poll' },
    { method: 'POST', path: '/v1/procs/:id/signal', name: 'signal' },
  ] as const;
  const end = findRoute(routes, 'POST', '/v1/procs/end');
  assert.equal(end.route?.name, 'end');
  const poll = findRoute(routes, 'GET', '/v1/procs/00ff');
  assert.deepEqual([poll.route?.name, poll.route && poll.params], ['poll', { id: '00ff' }]);
  assert.deepEqual(findRoute(routes, 'POST', '/v1/procs/00ff'), { route: undefined, pathMatched: true });
  assert.deepEqual(findRoute(routes, 'GET', '/v1/nothing'), { route: undefined, pathMatched: false });
});
