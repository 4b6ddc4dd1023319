/* A static probe run inside containers by test/security: `probe NAME [ARG]` makes one system call
 * as an attacker would and prints "NAME ok" or "NAME <errno name>". Libc only; every call uses
 * harmless arguments, so "ok" on a host is not an escape by itself -- the tests compare with what
 * the container is expected to refuse. */

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *errname(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ENOSYS: return "ENOSYS";
  case EINVAL: return "EINVAL";
  case ESRCH: return "ESRCH";
  case ENOENT: return "ENOENT";
  case EROFS: return "EROFS";
  case EFAULT: return "EFAULT";
  case EBADF: return "EBADF";
  case ENOTDIR: return "ENOTDIR";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case ENOKEY: return "ENOKEY";
  default: return "EOTHER";
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: probe NAME [ARG]\n");
    return 2;
  }
  const char *n = argv[1];
  if (strcmp(n, "euid") == 0) { /* not a syscall probe: who am I (a setuid copy of the probe) */
    printf("euid %d\n", (int)geteuid());
    return 0;
  }
  long rc;
  errno = 0;
  if (strcmp(n, "keyctl") == 0) rc = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1);
  else if (strcmp(n, "add_key") == 0) rc = syscall(SYS_add_key, "user", "berth-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
  else if (strcmp(n, "bpf") == 0) rc = syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0);
  else if (strcmp(n, "open_by_handle_at") == 0) {
    struct { unsigned int bytes; int type; unsigned char f[8]; } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
    rc = syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY);
  } else if (strcmp(n, "kexec_load") == 0) rc = syscall(SYS_kexec_load, 0, 0, NULL, 0);
  else if (strcmp(n, "io_uring_setup") == 0) {
    char params[120] = {0};
    rc = syscall(SYS_io_uring_setup, 1, params);
  } else if (strcmp(n, "unshare_user") == 0) rc = unshare(CLONE_NEWUSER);
  else if (strcmp(n, "clone_newuser") == 0) {
    rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
    if (rc == 0) _exit(0);
  } else if (strcmp(n, "mount_tmpfs") == 0) rc = mount("none", "/tmp", "tmpfs", 0, NULL);
  else if (strcmp(n, "init_module") == 0) rc = syscall(SYS_init_module, NULL, 0, "");
  else if (strcmp(n, "ptrace") == 0) rc = ptrace(PTRACE_ATTACH, argc > 2 ? atoi(argv[2]) : 1, NULL, NULL);
  else if (strcmp(n, "userfaultfd") == 0) rc = syscall(SYS_userfaultfd, 0);
  else if (strcmp(n, "personality") == 0) rc = personality(0x0040000 /* ADDR_NO_RANDOMIZE */);
  else if (strcmp(n, "vsock") == 0) rc = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
  else if (strcmp(n, "perf_event_open") == 0) rc = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
  else if (strcmp(n, "setns") == 0) rc = setns(0, 0);
  else {
    fprintf(stderr, "probe: unknown %s\n", n);
    return 2;
  }
  printf("%s %s\n", n, rc >= 0 ? "ok" : errname(errno));
  return 0;
}
