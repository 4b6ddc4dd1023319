/* Raw wrappers for the system calls glibc 2.36 does not wrap (or wraps with semantics we do not
 * want). Header-only so each facility file stays self-contained. */
#ifndef BT_SYSCALLS_H
#define BT_SYSCALLS_H

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int sys_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/* clone(2) used like fork(2): no new stack is passed, so the child runs on a copy-on-write copy
 * of the parent's stack and returns 0 here, like fork. glibc's clone() wrapper insists on a
 * separate stack and a function; the raw syscall does not. On x86_64 the argument order is
 * (flags, stack, parent_tid, child_tid, tls). */
static inline pid_t sys_clone_fork(unsigned long flags) {
  return (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
}

static inline int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
                             uint64_t resolve) {
  struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static inline int sys_capget(struct __user_cap_header_struct *header,
                            struct __user_cap_data_struct *data) {
  return (int)syscall(SYS_capget, header, data);
}

static inline int sys_capset(struct __user_cap_header_struct *header,
                            const struct __user_cap_data_struct *data) {
  return (int)syscall(SYS_capset, header, data);
}

#endif
