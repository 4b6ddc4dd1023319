/* The container's seccomp filter. The rules arrive resolved (src/runtime/seccomp/: Docker's
 * profile format with its caps/arch/kernel conditions already applied): here they are compiled
 * with libseccomp into a BPF program, in the shim, before clone or setns -- so nothing the
 * container controls is read while building it -- and loaded by the child just before execve. */
#ifndef BT_SECCOMP_H
#define BT_SECCOMP_H

#include <linux/filter.h>

#include "error.h"
#include "protocol.h" /* bt_seccomp: the rules as the launch file carries them */

/* Compile into *prog (filter array malloc'd). Syscall names this libseccomp does not know are
 * skipped, as runc skips them: a profile names syscalls of newer kernels.
 *
 * With a cache (s->cache_dir, s->cache_key), the program is read from
 * <cache_dir>/<key>-<libseccomp version>.bpf when that is a regular file of ours, else compiled
 * and written there (atomically; a cache that cannot be written is only slower). Compiling
 * Docker's profile costs libseccomp milliseconds; every start and every exec (health probes run
 * one every few seconds) would pay them. The cache lives in BERTH_ROOT, which only root writes. */
int bt_seccomp_compile(const bt_seccomp *s, struct sock_fprog *prog, bt_error **err);
/* Install the compiled filter on the calling thread (seccomp(SECCOMP_SET_MODE_FILTER)). */
int bt_seccomp_load(const struct sock_fprog *prog, bt_error **err);

#endif
