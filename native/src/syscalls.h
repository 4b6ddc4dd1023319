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

/* clone3(2) used like fork(2) (no stack: the child returns 0 here on a copy of ours), with
 * CLONE_INTO_CGROUP: the child is created in the cgroup v2 directory `cgroup_fd`, so it never has
 * to be moved there (Linux 5.7). The argument block is the kernel's `struct clone_args` up to its
 * `cgroup` field (CLONE_ARGS_SIZE_VER2), spelled out so that <linux/sched.h> need not meet glibc's
 * <sched.h>. -1 with errno ENOSYS/E2BIG/EINVAL on a kernel without it: the caller falls back. */
#define BT_CLONE_INTO_CGROUP 0x200000000ULL
struct bt_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};
static inline pid_t sys_clone3_into_cgroup(uint64_t flags, int cgroup_fd) {
  struct bt_clone_args args = {.flags = flags | BT_CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
                               .cgroup = (uint64_t)cgroup_fd};
  return (pid_t)syscall(SYS_clone3, &args, sizeof args);
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
