// Stands in for an engine in network.test.ts: it creates a network, starts a container in it
// with a name and a published port, prints one JSON line, and waits to be SIGKILLed. What it
// leaves running (the container, berth-netd, the NAT rules) must outlive it.
import type { TestRoots } from './env.js';
import { makeBench, startContainer, runNames, eventually, waitTcp, ipOf } from './network.js';

const [rootsJson, namesJson, upstream] = process.argv.slice(2) as [string, string, string];
const roots = JSON.parse(rootsJson) as TestRoots;
const names = JSON.parse(namesJson) as ReturnType<typeof runNames>;
const bench = makeBench(roots, names, upstream);
await bench.facility.createNetwork({ name: 'survive' });
const id = await startContainer(bench, { image: 'bbnet', args: ['httpd', '-f', '-p', '80', '-h', '/www'], networks: [{ network: 'survive', names: ['keeper'] }] });
const [port] = await bench.facility.publish(id, [{ protocol: 'tcp', hostIp: '127.0.0.1', containerPort: { start: 80, end: 80 } }]);
await eventually('netd serves', () => bench.facility.netd.pid() !== undefined);
await waitTcp(ipOf(bench, id, 'survive'), 80);
process.stdout.write(JSON.stringify({ id, hostPort: port!.hostPort, netd: bench.facility.netd.pid() }) + '\n');
setInterval(() => { /* until SIGKILL */ }, 60_000);
