// The device policy of a container: which device numbers its processes may create (mknod), read
// and write, whatever nodes exist in its filesystem. Pure: the rules, their v1 form (the devices
// controller's devices.deny/devices.allow lines) and their v2 form (a BPF_PROG_TYPE_CGROUP_DEVICE
// program), plus an interpreter for that program so tests can ask what it allows.
//
// Docker's default (moby oci/defaults.go and runc's allowed devices, facts re-typed here): mknod
// of any character or block device is allowed (the node is useless without access), and only
// these may be opened: null, zero, full, random, urandom, tty, console, ptmx and the pts slaves.
// /dev/fuse (10:229) and /dev/net/tun (10:200) are not in it: they are granted by `--device`.

export type DeviceType = 'a' | 'c' | 'b';

/** One allow rule; '*' matches every number. access is a subset of "rwm" (read, write, mknod). */
export interface DeviceRule {
  readonly type: DeviceType;
  readonly major: number | '*';
  readonly minor: number | '*';
  readonly access: string;
}

/**
 * allowAll: no restriction (a privileged container). Otherwise everything is denied except the
 * rules of `allow`.
 */
export interface DevicePolicy {
  readonly allowAll: boolean;
  readonly allow: readonly DeviceRule[];
}

export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: 'c', major: '*', minor: '*', access: 'm' },
  { type: 'b', major: '*', minor: '*', access: 'm' },
  { type: 'c', major: 1, minor: 3, access: 'rwm' },   // null
  { type: 'c', major: 1, minor: 5, access: 'rwm' },   // zero
  { type: 'c', major: 1, minor: 7, access: 'rwm' },   // full
  { type: 'c', major: 1, minor: 8, access: 'rwm' },   // random
  { type: 'c', major: 1, minor: 9, access: 'rwm' },   // urandom
  { type: 'c', major: 5, minor: 0, access: 'rwm' },   // tty
  { type: 'c', major: 5, minor: 1, access: 'rwm' },   // console
  { type: 'c', major: 5, minor: 2, access: 'rwm' },   // ptmx
  { type: 'c', major: 136, minor: '*', access: 'rwm' }, // pts slaves
];

export const DEFAULT_DEVICE_POLICY: DevicePolicy = { allowAll: false, allow: DEFAULT_DEVICE_RULES };
export const ALLOW_ALL_DEVICES: DevicePolicy = { allowAll: true, allow: [] };

/** "c 1:3 rwm", the v1 devices.allow syntax (and devices.list's). */
export function formatRule(r: DeviceRule): string {
  return `${r.type} ${r.major}:${r.minor} ${r.access}`;
}

/** The writes that install `policy` in a fresh v1 devices cgroup, in order: [file, line]. */
export function v1DeviceWrites(policy: DevicePolicy): [file: 'devices.allow' | 'devices.deny', line: string][] {
  if (policy.allowAll) return [['devices.allow', 'a']];
  return [['devices.deny', 'a'], ...policy.allow.map((r) => ['devices.allow', formatRule(r)] as ['devices.allow', string])];
}

/** What a process asks the kernel for: one device and the access it wants. */
export interface DeviceRequest {
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  /** one or more of r, w, m */
  readonly access: string;
}

const ACCESS_BITS: Readonly<Record<string, number>> = { m: 1, r: 2, w: 4 }; // BPF_DEVCG_ACC_*
const TYPE_BITS: Readonly<Record<'c' | 'b', number>> = { b: 1, c: 2 };      // BPF_DEVCG_DEV_*

function accessMask(access: string): number {
  let mask = 0;
  for (const ch of access) {
    const bit = ACCESS_BITS[ch];
    if (bit === undefined) throw new Error(`device access "${access}": expected letters of "rwm"`);
    mask |= bit;
  }
  return mask;
}

/** Does the policy allow the request? The reference semantics both kernel forms implement. */
export function policyAllows(policy: DevicePolicy, req: DeviceRequest): boolean {
  if (policy.allowAll) return true;
  const want = accessMask(req.access);
  return policy.allow.some((r) => (r.type === 'a' || r.type === req.type)
    && (r.major === '*' || r.major === req.major)
    && (r.minor === '*' || r.minor === req.minor)
    && (want & ~accessMask(r.access)) === 0);
}

/** Parses v1 devices.list (one rule per line) back into a policy. */
export function parseDevicesList(text: string): DevicePolicy {
  const rules: DeviceRule[] = [];
  for (const line of text.split('\n')) {
    const m = /^([acb]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    const num = (s: string): number | '*' => (s === '*' ? '*' : Number(s));
    const rule: DeviceRule = { type: m[1] as DeviceType, major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
    if (rule.type === 'a' && rule.major === '*' && rule.minor === '*' && rule.access === 'rwm') return ALLOW_ALL_DEVICES;
    rules.push(rule);
  }
  return { allowAll: false, allow: rules };
}

// ── v2: a BPF_PROG_TYPE_CGROUP_DEVICE program ─────────────────────────────────────────────────
//
// The kernel calls it with r1 = struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor }
// where access_type = (access << 16) | type; a return of 1 allows, 0 denies (EPERM). The program:
//   r2 = type, r3 = access, r4 = major, r5 = minor
//   per rule: if type/major/minor differ, or access has a bit the rule lacks → next rule; else return 1
//   return 0
// Instructions are 8 bytes: opcode, dst|src<<4, s16 offset, s32 immediate (little-endian hosts).

const LDX_W = 0x61;     // BPF_LDX | BPF_MEM | BPF_W
const AND_K = 0x57;     // BPF_ALU64 | BPF_AND | BPF_K
const RSH_K = 0x77;     // BPF_ALU64 | BPF_RSH | BPF_K
const MOV_K = 0xb7;     // BPF_ALU64 | BPF_MOV | BPF_K
const MOV_X = 0xbf;     // BPF_ALU64 | BPF_MOV | BPF_X
const JNE_K = 0x55;     // BPF_JMP | BPF_JNE | BPF_K
const EXIT = 0x95;      // BPF_JMP | BPF_EXIT

type Insn = [op: number, dst: number, src: number, off: number, imm: number];

/** The program for `policy`, as the bytes BPF_PROG_LOAD takes. */
export function deviceProgram(policy: DevicePolicy): Uint8Array {
  const insns: Insn[] = [];
  if (policy.allowAll) {
    insns.push([MOV_K, 0, 0, 0, 1], [EXIT, 0, 0, 0, 0]);
    return encode(insns);
  }
  insns.push(
    [LDX_W, 2, 1, 0, 0], [AND_K, 2, 0, 0, 0xffff],  // r2 = type
    [LDX_W, 3, 1, 0, 0], [RSH_K, 3, 0, 0, 16],      // r3 = access
    [LDX_W, 4, 1, 4, 0],                            // r4 = major
    [LDX_W, 5, 1, 8, 0],                            // r5 = minor
  );
  for (const r of policy.allow) {
    const block: Insn[] = [];
    // jump offsets are patched once the block's length is known (they all go to its end)
    if (r.type !== 'a') block.push([JNE_K, 2, 0, -1, TYPE_BITS[r.type]]);
    block.push([MOV_X, 1, 3, 0, 0], [AND_K, 1, 0, 0, ~accessMask(r.access) & 7], [JNE_K, 1, 0, -1, 0]);
    if (r.major !== '*') block.push([JNE_K, 4, 0, -1, r.major]);
    if (r.minor !== '*') block.push([JNE_K, 5, 0, -1, r.minor]);
    block.push([MOV_K, 0, 0, 0, 1], [EXIT, 0, 0, 0, 0]);
    block.forEach((insn, i) => { if (insn[3] === -1) insn[3] = block.length - i - 1; });
    insns.push(...block);
  }
  insns.push([MOV_K, 0, 0, 0, 0], [EXIT, 0, 0, 0, 0]);
  return encode(insns);
}

function encode(insns: readonly Insn[]): Uint8Array {
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach(([op, dst, src, off, imm], i) => {
    out.writeUInt8(op, i * 8);
    out.writeUInt8((src << 4) | dst, i * 8 + 1);
    out.writeInt16LE(off, i * 8 + 2);
    out.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return out;
}

/**
 * Runs a device program on one request, as the kernel would: for tests, and to read back what a
 * v2 cgroup allows. Understands exactly the instructions deviceProgram emits.
 */
export function runDeviceProgram(program: Uint8Array, req: DeviceRequest): boolean {
  const buf = Buffer.from(program.buffer, program.byteOffset, program.byteLength);
  const ctx = [((accessMask(req.access) << 16) | TYPE_BITS[req.type]) >>> 0, req.major, req.minor];
  const reg = new Array<number>(11).fill(0);
  let pc = 0;
  for (let steps = 0; steps < 100_000; steps++) {
    if (pc * 8 >= buf.length) throw new Error('device program ran off its end');
    const op = buf.readUInt8(pc * 8);
    const regs = buf.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = buf.readInt16LE(pc * 8 + 2);
    const imm = buf.readInt32LE(pc * 8 + 4);
    pc++;
    switch (op) {
      case LDX_W: reg[dst] = ctx[off / 4]!; break;
      case AND_K: reg[dst] = (reg[dst]! & imm) >>> 0; break;
      case RSH_K: reg[dst] = reg[dst]! >>> imm; break;
      case MOV_K: reg[dst] = imm >>> 0; break;
      case MOV_X: reg[dst] = reg[src]!; break;
      case JNE_K: if (reg[dst] !== imm >>> 0) pc += off; break;
      case EXIT: return reg[0] === 1;
      default: throw new Error(`device program: unexpected opcode 0x${op.toString(16)}`);
    }
  }
  throw new Error('device program did not finish');
}
