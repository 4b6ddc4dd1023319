// Docker's and runc's documented numbers for the pure conversions.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { InvalidArgument } from '../../lib/errors.js';
import {
  sharesToWeight, resolveCpuShares, cpusToQuota, resolveMemory, swapMaxValue, pidsMaxValue,
  parseCpuList, validateCpuset, resolveLimits, NO_SWAP_LIMIT_WARNING,
} from './convert.js';

const MiB = 1024 * 1024;

function throwsInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof InvalidArgument && message.test(err.message));
}

test('shares → weight follows runc: 2 → 1, 1024 → 39, 262144 → 10000, 0 stays unset', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(512), 20);
  assert.equal(sharesToWeight(262_144), 10_000);
  assert.equal(sharesToWeight(0), 0);
});

test('shares → weight clamps into [1, 10000]', () => {
  assert.equal(sharesToWeight(1), 1);
  assert.equal(sharesToWeight(1_000_000), 10_000);
  throwsInvalid(() => sharesToWeight(-5), /non-negative integer/);
});

test('cpu shares: below 2 becomes 2 and above 262144 becomes 262144, with Docker\'s warnings', () => {
  assert.deepEqual(resolveCpuShares(1), { shares: 2, warning: 'Changing requested CPUShares of 1 to minimum allowed of 2' });
  assert.deepEqual(resolveCpuShares(300_000), { shares: 262_144, warning: 'Changing requested CPUShares of 300000 to maximum allowed of 262144' });
  assert.deepEqual(resolveCpuShares(512), { shares: 512 });
  assert.deepEqual(resolveCpuShares(0), { shares: undefined });
  throwsInvalid(() => resolveCpuShares(-1), /must be a positive integer/);
});

test('cpus → quota/period: 0.5 → 50000/100000, "1.5" → 150000, 0 → unlimited', () => {
  assert.deepEqual(cpusToQuota(0.5), { quota: 50_000, period: 100_000 });
  assert.deepEqual(cpusToQuota('1.5'), { quota: 150_000, period: 100_000 });
  assert.deepEqual(cpusToQuota('0.25', 200_000), { quota: 50_000, period: 200_000 });
  assert.deepEqual(cpusToQuota(2, 100_000, 2), { quota: 200_000, period: 100_000 });
  assert.equal(cpusToQuota(0), undefined);
  assert.equal(cpusToQuota('0'), undefined);
});

test('cpus: negative, NaN and garbage are rejected; too precise and out-of-range as Docker does', () => {
  throwsInvalid(() => cpusToQuota(-1), /non-negative number/);
  throwsInvalid(() => cpusToQuota(Number.NaN), /non-negative number/);
  throwsInvalid(() => cpusToQuota('abc'), /non-negative number/);
  throwsInvalid(() => cpusToQuota('-0.5'), /non-negative number/);
  throwsInvalid(() => cpusToQuota('0.0000000001'), /too precise/);
  throwsInvalid(() => cpusToQuota(3, 100_000, 2), /range of cpus is from 0.01 to 2.00, as there are only 2 cpus available/);
  throwsInvalid(() => cpusToQuota(0.001, 100_000, 2), /range of cpus is from 0.01/);
  throwsInvalid(() => cpusToQuota(1, 500), /cfs period can not be less than 1ms/);
});

test('memory swap: unset means 2 × memory, -1 unlimited, equal means no swap', () => {
  assert.deepEqual(resolveMemory(64 * MiB, undefined), { memory: 64 * MiB, memorySwap: 128 * MiB });
  assert.deepEqual(resolveMemory(64 * MiB, -1), { memory: 64 * MiB, memorySwap: -1 });
  assert.deepEqual(resolveMemory(64 * MiB, 64 * MiB), { memory: 64 * MiB, memorySwap: 64 * MiB });
  assert.deepEqual(resolveMemory(undefined, undefined), {});
  assert.deepEqual(resolveMemory(0, undefined), {});
  assert.deepEqual(resolveMemory(undefined, -1), {});
  assert.equal(swapMaxValue(64 * MiB, 128 * MiB), String(64 * MiB));
  assert.equal(swapMaxValue(64 * MiB, 64 * MiB), '0');
  assert.equal(swapMaxValue(64 * MiB, -1), 'max');
});

test('memory: Docker\'s 6MB minimum and memoryswap ≥ memory', () => {
  throwsInvalid(() => resolveMemory(4 * MiB, undefined), /^minimum memory limit allowed is 6MB$/);
  assert.deepEqual(resolveMemory(6 * MiB, undefined), { memory: 6 * MiB, memorySwap: 12 * MiB });
  throwsInvalid(() => resolveMemory(64 * MiB, 32 * MiB), /^minimum memoryswap limit should be larger than memory limit, see usage$/);
  throwsInvalid(() => resolveMemory(undefined, 64 * MiB), /always set the memory limit when using memoryswap/);
  throwsInvalid(() => resolveMemory(64 * MiB, -2), /invalid memory-swap limit/);
  throwsInvalid(() => resolveMemory(-1, undefined), /invalid memory limit/);
});

test('pids limit: positive is the limit, 0 and -1 are "max"', () => {
  assert.equal(pidsMaxValue(100), '100');
  assert.equal(pidsMaxValue(0), 'max');
  assert.equal(pidsMaxValue(-1), 'max');
  throwsInvalid(() => pidsMaxValue(1.5), /expected an integer/);
});

test('cpu lists parse the kernel list format', () => {
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.deepEqual(parseCpuList('0-1'), [0, 1]);
  assert.deepEqual(parseCpuList('0,1'), [0, 1]);
  assert.deepEqual(parseCpuList('0-2,5,7-8\n'), [0, 1, 2, 5, 7, 8]);
  assert.deepEqual(parseCpuList(''), []);
  assert.equal(parseCpuList('1-0'), undefined);
  assert.equal(parseCpuList('a'), undefined);
  assert.equal(parseCpuList('0,,1'), undefined);
  assert.equal(parseCpuList('0-4000000000'), undefined);
});

test('cpuset is checked against the available CPUs with Docker\'s messages', () => {
  assert.equal(validateCpuset('0-1', '0-3\n', 'cpus'), '0-1');
  assert.equal(validateCpuset('0,1', '0-1', 'cpus'), '0,1');
  throwsInvalid(() => validateCpuset('4', '0-3\n', 'cpus'), /^requested cpus are not available - requested 4, available: 0-3$/);
  throwsInvalid(() => validateCpuset('1', '0', 'mems'), /^requested memory nodes are not available - requested 1, available: 0$/);
  throwsInvalid(() => validateCpuset('0-', '0-3', 'cpus'), /^invalid value "0-" for cpuset cpus$/);
  throwsInvalid(() => validateCpuset('', '0-3', 'cpus'), /invalid value/);
});

test('resolveLimits: quota without period gets 100000; bad quota/period rejected; warnings collected', () => {
  assert.deepEqual(resolveLimits({ cpuQuota: 50_000 }).resolved, { cpuQuota: 50_000, cpuPeriod: 100_000 });
  assert.deepEqual(resolveLimits({ cpuQuota: -1 }).resolved, {});
  throwsInvalid(() => resolveLimits({ cpuQuota: 500 }), /cfs quota can not be less than 1ms/);
  throwsInvalid(() => resolveLimits({ cpuPeriod: 999 }), /cfs period can not be less than 1ms/);
  throwsInvalid(() => resolveLimits({ cpusetCpus: 'x' }), /for cpuset cpus/);
  const r = resolveLimits({ cpuShares: 1, memory: 64 * MiB, pidsLimit: 0, cpusetCpus: ' 0 ' });
  assert.deepEqual(r.resolved, { cpuShares: 2, memory: 64 * MiB, memorySwap: 128 * MiB, pidsMax: 'max', cpusetCpus: '0' });
  assert.deepEqual(r.warnings, ['Changing requested CPUShares of 1 to minimum allowed of 2']);
  assert.match(NO_SWAP_LIMIT_WARNING, /^Your kernel does not support swap limit capabilities/);
});
