// Golden plans for networks as resources: created before the containers that use them, removed
// after every container on down; external networks are never created nor removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Network, Project, ServiceNetwork } from '../spec/model.js';
import type { ObservedContainer, ObservedNetwork } from './observed.js';
import { planToString, type Plan } from './plan.js';
import { planDown, reconcile } from './reconcile.js';
import { hostNetworkName, serviceNetworks } from './networks.js';
import { testContainer, testHashes, testProject, testService, upOptions } from './testing.js';

const golden = (plan: Plan, ...lines: string[]): void => {
  assert.equal(planToString(plan), lines.length > 0 ? lines.join('\n') + '\n' : '');
};

const attach = (...keys: string[]): Record<string, ServiceNetwork> => Object.fromEntries(keys.map((k) => [k, { aliases: [] }]));
const network = (name: string, fields: Partial<Network> = {}): Network => ({ name, driver_opts: {}, external: false, internal: false, attachable: false, labels: {}, extensions: {}, ...fields });

/** web on default and back; db on back; tool under network_mode host; edge on an external network */
function shop(): Project {
  const p = testProject('shop', [
    testService('db', { networks: attach('back') }),
    testService('web', { networks: attach('default', 'back') }),
    testService('tool', { network_mode: 'host', networks: {} }),
    testService('edge', { networks: attach('shared') }),
  ]);
  return { ...p, networks: { default: network('shop_default'), back: network('shop_back', { internal: true }), shared: network('proxy', { external: true }) } };
}

const up = (project: Project, containers: readonly ObservedContainer[], networks: readonly ObservedNetwork[] | undefined, services: string[] = []): Plan =>
  reconcile(project, { projectName: project.name, containers, ...(networks ? { networks } : {}) }, testHashes(project), upOptions({ services }));

const observedNet = (name: string, project = '', key = ''): ObservedNetwork => ({ name, project, key });

test('fresh up: the networks the services need are created first, and each create waits for its networks', () => {
  golden(up(shop(), [], [observedNet('proxy')]),
    '#0 create network:back (not found)',
    '#1 create network:default (not found)',
    '#2 create service:db:1 (not found) after #0',
    '#3 start service:db:1 (not found) after #2',
    '#4 create service:edge:1 (not found)',
    '#5 start service:edge:1 (not found) after #4',
    '#6 create service:tool:1 (not found)',
    '#7 start service:tool:1 (not found) after #6',
    '#8 create service:web:1 (not found) after #0,#1',
    '#9 start service:web:1 (not found) after #8',
  );
});

test('networks that exist are used as they are; a selection creates only what it needs', () => {
  golden(up(shop(), [], [observedNet('shop_back', 'shop', 'back')], ['db']),
    '#0 create service:db:1 (not found)',
    '#1 start service:db:1 (not found) after #0',
  );
  golden(up(shop(), [], [], ['tool']),
    '#0 create service:tool:1 (not found)',
    '#1 start service:tool:1 (not found) after #0',
  );
});

test('without observed networks (a caller that did not look), no network operation is planned', () => {
  assert.doesNotMatch(planToString(up(shop(), [], undefined)), /network:/);
});

test('down removes the project\'s own networks after every container remove; an external one stays', () => {
  const containers = ['db', 'web'].map((s) => testContainer('shop', s, 1));
  const networks = [observedNet('shop_default', 'shop', 'default'), observedNet('shop_back', 'shop', 'back'), observedNet('proxy')];
  golden(planDown(shop(), { projectName: 'shop', containers, networks }, { removeOrphans: false }),
    '#0 stop service:web:1 (down)',
    '#1 remove service:web:1 (down) after #0',
    '#2 stop service:db:1 (down)',
    '#3 remove service:db:1 (down) after #2',
    '#4 remove network:back (down) after #1,#3',
    '#5 remove network:default (down) after #1,#3',
  );
});

test('down -p without a file removes the networks labelled with the project, and only those', () => {
  const networks = [observedNet('shop_default', 'shop', 'default'), observedNet('other_default', 'other', 'default'), observedNet('handmade')];
  golden(planDown(undefined, { projectName: 'shop', containers: [], networks }, { removeOrphans: false }),
    '#0 remove network:default (down)',
  );
});

test('a service\'s networks: none under a network_mode; a network\'s host name is its name: or <project>_<key>', () => {
  const p = shop();
  assert.deepEqual(serviceNetworks(p.services.web!), ['back', 'default']);
  assert.deepEqual(serviceNetworks(p.services.tool!), []);
  assert.equal(hostNetworkName(p, 'shared'), 'proxy');
  assert.equal(hostNetworkName(p, 'later'), 'shop_later');
});

test('a project network whose config changed is recreated: the containers on it removed first, created again after it', () => {
  const nets = [observedNet('proxy'), { ...observedNet('shop_back', 'shop', 'back'), configHash: 'old' }, { ...observedNet('shop_default', 'shop', 'default'), configHash: 'd1' }];
  const containers = [testContainer('shop', 'db', 1), testContainer('shop', 'web', 1), testContainer('shop', 'tool', 1), testContainer('shop', 'edge', 1)];
  const hashes = { back: 'new', default: 'd1' };
  // `up db`: web is on back too, so it comes along; tool and edge are untouched
  golden(reconcile(shop(), { projectName: 'shop', containers, networks: nets }, testHashes(shop()), upOptions({ services: ['db'], networkHashes: hashes })),
    '#0 stop service:db:1 (network back changed)',
    '#1 remove service:db:1 (network back changed) after #0',
    '#2 stop service:web:1 (network back changed)',
    '#3 remove service:web:1 (network back changed) after #2',
    '#4 remove network:back (config changed) after #1,#3',
    '#5 create network:back (config changed) after #4',
    '#6 create service:db:1 (network back changed) after #1,#5',
    '#7 start service:db:1 (network back changed) after #6',
    '#8 create service:web:1 (network back changed) after #3,#5',
    '#9 start service:web:1 (network back changed) after #8',
  );
  // same hash, no hash label (an older network), --no-recreate, an external network: used as they are
  golden(reconcile(shop(), { projectName: 'shop', containers, networks: nets }, testHashes(shop()), upOptions({ services: ['db'], networkHashes: { back: 'old', default: 'd1' } })));
  golden(reconcile(shop(), { projectName: 'shop', containers, networks: [observedNet('proxy'), observedNet('shop_back', 'shop', 'back')] }, testHashes(shop()), upOptions({ services: ['db'], networkHashes: hashes })));
  golden(reconcile(shop(), { projectName: 'shop', containers, networks: nets }, testHashes(shop()), upOptions({ services: ['db'], networkHashes: hashes, noRecreate: true })));
  golden(reconcile(shop(), { projectName: 'shop', containers, networks: [...nets.filter((n) => n.name !== 'proxy'), { ...observedNet('proxy', 'shop', 'shared'), configHash: 'x' }] }, testHashes(shop()), upOptions({ services: ['edge'], networkHashes: { back: 'old', default: 'd1', shared: 'y' } })));
});

test('a network another project made under the same name is never recreated', () => {
  const nets = [observedNet('proxy'), { ...observedNet('shop_back', 'other', 'back'), configHash: 'old' }];
  golden(reconcile(shop(), { projectName: 'shop', containers: [testContainer('shop', 'db', 1)], networks: nets }, testHashes(shop()), upOptions({ services: ['db'], networkHashes: { back: 'new' } })));
});
