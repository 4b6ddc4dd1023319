import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderRuleset } from './rules.js';

test('isolation does not depend on the order of bridge names: every "in" rule precedes every "out" rule', () => {
  for (const [first, second] of [['bt-a', 'bt-z'], ['bt-z', 'bt-a']] as const) {
    const lines = renderRuleset('t', [{ bridge: first, subnet: '10.1.0.0/16', internal: false }, { bridge: second, subnet: '10.2.0.0/16', internal: false }], []).split('\n');
    const lastIn = Math.max(...lines.map((l, i) => (/^\t\toifname .* drop$/.test(l) ? i : -1)));
    const firstOut = lines.findIndex((l) => /^\t\tiifname "[^"]+" accept$/.test(l));
    assert.ok(lastIn < firstOut, lines.join('\n'));
  }
});

test('no networks: the table is removed (created empty first so that delete always succeeds)', () => {
  assert.equal(renderRuleset('berth', [], []), 'table inet berth\ndelete table inet berth\n');
});

test('the golden rule set: isolation, internal, masquerade, published ports, hairpin', () => {
  const text = renderRuleset('berth', [
    { bridge: 'bt-b', subnet: '172.18.0.0/16', internal: false, subnet6: 'fd00:1::/64' },
    { bridge: 'bt-a', subnet: '172.19.0.0/16', internal: true },
  ], [
    { protocol: 'udp', hostIp: '', hostPort: 5353, containerIp: '172.18.0.2', containerPort: 53, bridge: 'bt-b' },
    { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '172.18.0.2', containerPort: 80, bridge: 'bt-b' },
    { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8081, containerIp: '172.18.0.2', containerPort: 80, bridge: 'bt-b' },
  ]);
  assert.equal(text, `table inet berth
delete table inet berth
table inet berth {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "bt-a" oifname "bt-a" accept
		iifname "bt-b" oifname "bt-b" accept
		oifname "bt-b" ct state established,related accept
		oifname "bt-b" ct status dnat accept
		oifname "bt-a" drop
		oifname "bt-b" drop
		iifname "bt-a" drop
		iifname "bt-b" accept
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "bt-a" drop
	}
	chain ports {
		udp dport 5353 dnat ip to 172.18.0.2:53
		ip daddr 127.0.0.1 tcp dport 8080 dnat ip to 172.18.0.2:80
		tcp dport 8081 dnat ip to 172.18.0.2:80
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump ports
	}
	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local jump ports
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 172.18.0.0/16 oifname != "bt-b" masquerade
		ip6 saddr fd00:1::/64 oifname != "bt-b" masquerade
		oifname "bt-b" ip saddr 127.0.0.0/8 masquerade
		ip saddr 172.18.0.2 ip daddr 172.18.0.2 udp dport 53 masquerade
		ip saddr 172.18.0.2 ip daddr 172.18.0.2 tcp dport 80 masquerade
	}
}
`);
});
