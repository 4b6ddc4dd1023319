// The route table and its handlers agree: every EngineApi method has one route and one handler
// answering as the route declares; paths round-trip through pathOf/matchRoute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTES, matchRoute, pathOf, type RouteName } from '../api/routes.js';
import { handlerAnswers } from './routes.js';

test('every route has a handler that answers as the route declares', () => {
  for (const [name, route, handler] of handlerAnswers()) assert.equal(handler, route, `${name}: route answers ${route}, handler ${handler}`);
});

test('paths round-trip: parameters with "/" and ":" stay one segment; literal segments win', () => {
  for (const [name, route] of Object.entries(ROUTES) as [RouteName, (typeof ROUTES)[RouteName]][]) {
    const params = { project: 'demo', ref: 'localhost:5000/org/app:1.2', name: 'shop_db-data.1' };
    const m = matchRoute(route.method, pathOf(route, params));
    assert.equal(m.kind, 'found', name);
    if (m.kind === 'found') {
      assert.equal(m.name, name);
      for (const key of Object.keys(m.params)) assert.equal(m.params[key], params[key as 'project' | 'ref' | 'name']);
    }
  }
  assert.deepEqual(matchRoute('POST', '/v1/images/load'), { kind: 'found', name: 'imageLoad', route: ROUTES.imageLoad, params: {} });
  assert.deepEqual(matchRoute('PUT', '/v1/containers/x/stop'), { kind: 'method', allow: ['POST'] });
  assert.deepEqual(matchRoute('GET', '/v1/nothing'), { kind: 'none' });
  assert.deepEqual(matchRoute('GET', '/v1/containers/%E0%A4%A'), { kind: 'none' }, 'bad percent-encoding matches nothing');
});
