// The mount record shared by mounts.ts and file-grants.ts (kept apart so neither imports the other).
type Flags = { readonly nosuid?: boolean; readonly nodev?: boolean; readonly noexec?: boolean };

/**
 * One mount as the runtime records it (structurally its RecordedMount: runtime/container.ts) and
 * the shim mounts it (a `bind` or `tmpfs` launch directive, native/PROTOCOL.md).
 */
export type VolumeMount = Flags & (
  | {
    readonly type: 'bind';
    /** Docker's Type: a bind mount, a volume (bound from its data directory) */
    readonly kind: 'bind' | 'volume';
    readonly name?: string;
    readonly source: string;
    readonly target: string;
    readonly readonly: boolean;
    readonly nonRecursive?: boolean;
    /** read-only on this mount only: the source's submounts stay writable (compose bind.recursive: writable) */
    readonly readonlyTopOnly?: boolean;
    readonly propagation?: 'private' | 'rprivate' | 'slave' | 'rslave' | 'shared' | 'rshared';
    readonly subpath?: string;
  }
  | {
    readonly type: 'tmpfs';
    readonly kind: 'tmpfs';
    readonly target: string;
    readonly size: number;
    readonly mode: number;
    readonly readonly: boolean;
  });
