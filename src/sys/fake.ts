// A recording Sys for logic tests: every call is appended to `calls`; nothing touches the host.
import type { Sys } from './sys.js';
import { SysError } from '../lib/errors.js';

export interface RecordedCall {
  readonly name: keyof Sys;
  readonly args: readonly unknown[];
}

export function recordingSys(): Sys & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const xattrs = new Map<string, Uint8Array>();
  return {
    calls,
    mount(...args) { calls.push({ name: 'mount', args }); },
    umount2(...args) { calls.push({ name: 'umount2', args }); },
    mknod(...args) { calls.push({ name: 'mknod', args }); },
    lsetxattr(path, name, value) {
      calls.push({ name: 'lsetxattr', args: [path, name, value] });
      xattrs.set(`${path}\0${name}`, value);
    },
    attachDeviceProgram(...args) { calls.push({ name: 'attachDeviceProgram', args }); },
    cloexecFrom(...args) { calls.push({ name: 'cloexecFrom', args }); },
    mallocTrim() { calls.push({ name: 'mallocTrim', args: [] }); return false; },
    lgetxattr(path, name) {
      calls.push({ name: 'lgetxattr', args: [path, name] });
      return xattrs.get(`${path}\0${name}`);
    },
    openPty() {
      calls.push({ name: 'openPty', args: [] });
      return { master: -1, slave: -1 };
    },
    setWindowSize(...args) { calls.push({ name: 'setWindowSize', args }); },
    llistxattr(path) {
      calls.push({ name: 'llistxattr', args: [path] });
      return [...xattrs.keys()].filter((k) => k.startsWith(`${path}\0`)).map((k) => k.slice(path.length + 1));
    },
    syncfs(...args) { calls.push({ name: 'syncfs', args }); },
    openat2(...args) {
      calls.push({ name: 'openat2', args });
      // a recording fake has no files to open: say so rather than hand out a bogus descriptor
      throw new SysError('openat2', args[1], 'ENOSYS');
    },
  };
}
