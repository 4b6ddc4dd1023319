// A recording Sys for logic tests: every call is appended to `calls`; nothing touches the host.
import type { Sys } from './sys.js';

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
    lgetxattr(path, name) {
      calls.push({ name: 'lgetxattr', args: [path, name] });
      return xattrs.get(`${path}\0${name}`);
    },
    openPty() {
      calls.push({ name: 'openPty', args: [] });
      return { master: -1, slave: -1 };
    },
    setWindowSize(...args) { calls.push({ name: 'setWindowSize', args }); },
  };
}
