/* The order of container setup, from the shim's fork to the container's execve.
 *
 * Parent and child talk over a SOCK_SEQPACKET socketpair (one message per send, so records never
 * merge). Both ends are O_CLOEXEC: when the child's execve succeeds, its end closes and the
 * parent reads EOF. Before that the child may send a PTY record (the pty master, as SCM_RIGHTS,
 * because the pty must come from the container's own devpts which only the child can reach) or an
 * ERROR record (errno, exit code, message) after which it exits. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "devices.h"
#include "exitcode.h"
#include "hold.h"
#include "namespaces.h"
#include "rootfs.h"
#include "sealed.h"
#include "seccomp.h"
#include "security.h"
#include "syscalls.h"
#include "user.h"
#include "userns.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* RECORD_READY: a held start is ready; the child then sleeps until its deadline (hold.h). */
enum { RECORD_ERROR = 1, RECORD_PTY = 2, RECORD_READY = 3 };

typedef struct record {
  int kind;
  int errnum;
  int exit_code;
  char message[1024];
} record;

/* ---- child side -------------------------------------------------------------------------- */

/* Report err to the parent and exit with exit_code. Never returns. */
static void __attribute__((noreturn)) child_fail(int sock, int exit_code, bt_error *err) {
  record r = {.kind = RECORD_ERROR, .exit_code = exit_code};
  r.errnum = err ? err->errnum : 0;
  bt_error_format(err, r.message, sizeof r.message);
  (void)!send(sock, &r, sizeof r, MSG_NOSIGNAL);
  _exit(exit_code);
}

static int send_fd(int sock, int fd, bt_error **err) {
  record r = {.kind = RECORD_PTY};
  struct iovec iov = {.iov_base = &r, .iov_len = sizeof r};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
    return bt_error_sys(err, "send pty master");
  return 0;
}

/* The shim blocks and ignores signals for its own loop; none of that must reach the container.
 * Blocked masks and ignored dispositions survive execve, so both are reset here. */
static void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, SIG_DFL); /* EINVAL for SIGKILL/SIGSTOP and the libc-reserved ones: harmless */
}

static int dup_stdio(int in, int out, int errfd, bt_error **err) {
  /* dup2 clears FD_CLOEXEC on the copies, which is what stdio needs. */
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
    return bt_error_sys(err, "set up stdio");
  return 0;
}

/* Docker's PATH lookup (Go's exec.LookPath): a name without '/' is searched in the container
 * environment's PATH (the default PATH if it has none); the first regular file with any execute
 * bit wins. Not found anywhere: 127 with Docker's message. */
static int lookup_path(const char *name, char *const *env, char *out, size_t size,
                       bt_error **err) {
  if (strchr(name, '/') != NULL) {
    snprintf(out, size, "%s", name);
    return 0;
  }
  const char *path = DEFAULT_PATH;
  for (char *const *e = env; e && *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0)
      path = *e + 5;
  while (*name != '\0') {
    const char *end = strchr(path, ':');
    size_t len = end ? (size_t)(end - path) : strlen(path);
    if (len == 0)
      snprintf(out, size, "./%s", name); /* an empty PATH entry means the cwd */
    else
      snprintf(out, size, "%.*s/%s", (int)len, path, name);
    struct stat st;
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
      return 0;
    if (end == NULL)
      break;
    path = end + 1;
  }
  return bt_error_make(err, 0, "exec \"%s\": executable file not found in $PATH", name);
}

/* envp = the env directives, plus HOME from the user's passwd entry when env has none. */
static char **build_env(const bt_launch *l, const bt_user *user) {
  bool has_home = false;
  for (size_t i = 0; i < l->env.count; i++)
    if (strncmp(l->env.items[i], "HOME=", 5) == 0)
      has_home = true;
  char **envp = xcalloc(l->env.count + 2, sizeof *envp);
  size_t n = 0;
  for (size_t i = 0; i < l->env.count; i++)
    envp[n++] = l->env.items[i];
  if (!has_home) {
    size_t len = strlen(user->home) + 6;
    envp[n] = xmalloc(len);
    snprintf(envp[n++], len, "HOME=%s", user->home);
  }
  envp[n] = NULL;
  return envp;
}

/* Closes every descriptor but stdio and `keep` (the setup socket, close-on-exec itself): the
 * container's process starts with exactly 0, 1 and 2. Run before the working directory is
 * entered, so that no descriptor of the shim's (a cgroup.procs file, a pipe, the rootfs) can be
 * reached through /proc/self/fd as a cwd either (the class of runc's CVE-2024-21626). */
static void close_all_but(int keep, int keep2, int keep3) {
  /* keep2 and keep3 (the sealed init, the user namespace; -1 when none) are close-on-exec too:
   * execveat needs the first open until then, setns the second. */
  int kept[3] = {keep, keep2, keep3};
  for (int i = 0; i < 3; i++) /* sort the three */
    for (int j = i + 1; j < 3; j++)
      if (kept[j] < kept[i]) {
        int t = kept[i];
        kept[i] = kept[j];
        kept[j] = t;
      }
  unsigned next = 3;
  for (int i = 0; i < 3; i++) {
    if (kept[i] < (int)next)
      continue;
    if ((unsigned)kept[i] > next)
      close_range(next, (unsigned)kept[i] - 1, 0);
    next = (unsigned)kept[i] + 1;
  }
  close_range(next, ~0U, 0);
}

/* A remapped user namespace: its map as the launch gives it. */
static bt_idmap idmap_of(const bt_launch *l) {
  return (bt_idmap){.uid = l->userns_uid, .gid = l->userns_gid, .count = l->userns_count};
}

/* Before entering the user namespace: rlimits set while still the host's root (raising a hard
 * limit needs CAP_SYS_RESOURCE in the host's namespace; finish_and_exec sets the same values
 * again, which needs nothing), then the namespace itself. Never returns on failure. */
static void enter_userns(const bt_launch *l, int sock, int userns_fd) {
  bt_error *err = NULL;
  for (size_t i = 0; i < l->rlimit_count; i++)
    if (bt_set_rlimit(l->rlimits[i].resource, l->rlimits[i].name, l->rlimits[i].soft,
                      l->rlimits[i].hard, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
  if (bt_userns_enter(userns_fd, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  close(userns_fd);
}

/* With a remapped user namespace, what the shim mounted for the container as the host's root
 * is given to the container's root (as a runtime inside the namespace would have made it):
 * /dev, /dev/shm, /dev/mqueue and the tmpfs mounts. Device nodes stay the host root's (shown
 * as nobody inside), like the host nodes runc binds into a user namespace. */
static int own_runtime_mounts(const bt_launch *l, int rootfd, bt_error **err) {
  bt_idmap m = idmap_of(l);
  static const char *const dirs[] = {"/dev", "/dev/shm", "/dev/mqueue"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (bt_chown_in_root(rootfd, dirs[i], m.uid, m.gid, err) < 0)
      return -1;
  for (size_t i = 0; i < l->bind_count; i++)
    if (l->binds[i].kind == BT_MOUNT_TMPFS &&
        bt_chown_in_root(rootfd, l->binds[i].target, m.uid, m.gid, err) < 0)
      return -1;
  return 0;
}

/* A held start (hold.h) stops here: everything that can fail on the container's account has run
 * (mounts, pivot_root, the user and groups looked up, rlimits), and the seccomp filter, which may
 * forbid clock_nanosleep, is not loaded yet. The process sleeps until the deadline and goes by
 * itself; a cancellation by the supervisor that came first ends it here. */
static void hold_at_exec(int sock) {
  record r = {.kind = RECORD_READY};
  if (send(sock, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r)
    _exit(BT_EXIT_SETUP);
  if (!bt_hold_sleep_and_go())
    _exit(BT_EXIT_SETUP); /* cancelled: the supervisor kills us anyway */
}

/* The steps shared by `run` and `exec` once the process is in its final root: user, session,
 * terminal, rlimits, capabilities, credentials, no_new_privs, execve. Never returns. */
static void __attribute__((noreturn)) finish_and_exec(const bt_launch *l, int sock, bool tty,
                                                      const char *argv0, int exec_fd,
                                                      const struct sock_fprog *filter) {
  bt_error *err = NULL;
  bt_user user;
  /* The container's own files, read after pivot_root/setns: the lookup cannot escape the root. */
  if (bt_resolve_user(l->user, "/etc/passwd", "/etc/group", &user, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  if (bt_add_groups(&user, l->group_add.items, l->group_add.count, "/etc/group", &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  char **envp = build_env(l, &user);

  /* A new session: the container's PID 1 (or the exec'd process) must not stay in the shim's
   * session, where the shim's terminal would deliver it job-control signals. */
  if (setsid() < 0)
    child_fail(sock, BT_EXIT_SETUP, (bt_error_sys(&err, "setsid"), err));
  /* With a tty, the pty slave (already on fd 0) becomes the controlling terminal of the new
   * session; a session leader without one acquires it with TIOCSCTTY. */
  if (tty && ioctl(0, TIOCSCTTY, 0) < 0)
    child_fail(sock, BT_EXIT_SETUP, (bt_error_sys(&err, "set controlling terminal"), err));

  for (size_t i = 0; i < l->rlimit_count; i++)
    if (bt_set_rlimit(l->rlimits[i].resource, l->rlimits[i].name, l->rlimits[i].soft,
                      l->rlimits[i].hard, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
  if (bt_hold_active())
    hold_at_exec(sock);
  /* seccomp, as runc orders it: without no_new_privs, loading a filter needs CAP_SYS_ADMIN, so it
   * is loaded now, before the capabilities go (the filter must then allow capset, prctl,
   * setgroups, setgid, setuid and execve -- Docker's profile does); with no_new_privs, as late as
   * possible, so that the fewest of our own syscalls run under it. */
  if (filter != NULL && !l->no_new_privs && bt_seccomp_load(filter, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  /* Capabilities before the uid switch: dropping from the bounding set needs CAP_SETPCAP. */
  if (bt_drop_capabilities(l->caps, l->cap_count, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  if (bt_switch_user(user.uid, user.gid, user.groups, user.group_count, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  if (l->no_new_privs && bt_set_no_new_privs(&err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  if (filter != NULL && l->no_new_privs && bt_seccomp_load(filter, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  umask(022); /* the setup ran with umask 0 so that device modes were exact */

  /* The PATH lookup runs as the container user, so "executable" means executable for it. */
  char path[4096];
  if (exec_fd < 0 && lookup_path(argv0, envp, path, sizeof path, &err) < 0)
    child_fail(sock, BT_EXIT_NOT_FOUND, err);
  /* The parent-death signal guarded the setup (a shim killed mid-setup must not leave a half-made
   * container); the running container must not die with its supervisor. */
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (exec_fd >= 0)
    fexecve(exec_fd, l->args.items, envp); /* the sealed berth-init (sealed.h) */
  else
    execve(path, l->args.items, envp);
  int saved = errno;
  bt_error_make(&err, saved, "exec \"%s\"", argv0);
  child_fail(sock, bt_exit_code_from_exec_errno(saved), err);
}

/* A bind asking for slave or shared propagation needs the namespace's mounts to stay slaves of
 * the host's (else there is nothing to receive events from). */
static bool wants_mount_events(const bt_launch *l) {
  for (size_t i = 0; i < l->bind_count; i++)
    if (l->binds[i].propagation == MS_SLAVE || l->binds[i].propagation == MS_SHARED)
      return true;
  return false;
}

/* One `bind` or `tmpfs` directive. With a slave root, a bind that names no propagation is made
 * rprivate, Docker's default. Shared is granted inside the container only: its mounts are slaves
 * first, so nothing the container mounts reaches the host. */
static int user_mount(int rootfd, const bt_bind *m, bool slave_root, bt_error **err) {
  bt_mount_opts o = {.readonly = m->readonly, .attrs = m->attrs, .propagation = m->propagation,
                     .propagation_recursive = m->propagation_recursive,
                     .nonrecursive = m->nonrecursive, .toponly = m->toponly, .subpath = m->subpath};
  if (m->kind == BT_MOUNT_TMPFS)
    return bt_tmpfs_in_root(rootfd, m->target, m->size, m->mode, &o, err);
  if (slave_root && o.propagation == 0) {
    o.propagation = MS_PRIVATE;
    o.propagation_recursive = true;
  }
  if (o.propagation == MS_SHARED) {
    bt_mount_opts slave = o;
    slave.propagation = MS_SLAVE;
    if (bt_bind_in_root_opts(rootfd, m->source, m->target, &slave, err) < 0)
      return -1;
    bt_mount_opts shared = {.propagation = MS_SHARED,
                            .propagation_recursive = o.propagation_recursive};
    return bt_mount_setattr_in_root(rootfd, m->target, &shared, false, err);
  }
  return bt_bind_in_root_opts(rootfd, m->source, m->target, &o, err);
}

/* Everything between clone and exec, in this order. Never returns. */
static void __attribute__((noreturn)) container_child(const bt_launch *l, int sock, int in,
                                                      int out, int errfd, int netns_fd,
                                                      int init_fd, int userns_fd,
                                                      const struct sock_fprog *filter) {
  bt_error *err = NULL;
  reset_signals();
  /* Die with the shim while being set up; cleared just before execve. (getppid() cannot detect
   * a parent that died before the prctl: in a new pid namespace it is 0 either way. The read of
   * the release byte below covers that case: the parent's end is closed, so it reads EOF.) */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  umask(0);
  if (!l->tty && dup_stdio(in, out, errfd, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);

  /* 1. Wait until the parent has written our pid into every cgroup.procs: the cgroup namespace
   *    created next takes the cgroup we are in *now* as its root. */
  char go;
  ssize_t n;
  do
    n = read(sock, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    _exit(BT_EXIT_SETUP); /* the parent gave up (and reports why) */
  /* A prepared network namespace is joined first: /sys, mounted below, shows the namespace of
   * the process that mounts it. */
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) {
    bt_error_sys(&err, "join network namespace %s", l->netns);
    child_fail(sock, BT_EXIT_SETUP, err);
  }
  if (bt_unshare_cgroupns(&err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);

  /* 2. Mounts. Our mount namespace is a copy of the host's, with the host's propagation: make it
   *    all private before mounting anything, or our mounts would appear on the host. */
  bool slave_root = wants_mount_events(l);
  if ((slave_root ? bt_make_mounts_slave(&err) : bt_make_mounts_private(&err)) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  cleanup_close int rootfd = -1;
  if (bt_rootfs_bind_self(l->rootfs, &rootfd, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  /* proc must be mounted by a process inside the new pid namespace to show that namespace. */
  if (bt_mount_in_root(rootfd, "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                       &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  if (bt_setup_dev(rootfd, l->has_shm_size ? l->shm_size : 64ULL << 20, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  /* sysfs can be mounted because we own a new network namespace (the kernel refuses a sysfs
   * mount to a process that shares the host's netns without being its owner). Read-only, as
   * Docker does for non-privileged containers. */
  if (bt_mount_in_root(rootfd, "/sys", "sysfs", "sysfs",
                       (l->sysfs_rw ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  /* The container's own cgroups, read-only, at /sys/fs/cgroup (what JVMs, Go and Node size
   * themselves from). Each array is one field of the cgroupfs directives. */
  if (l->cgroupfs_count > 0) {
    char **fstypes = xcalloc(l->cgroupfs_count, sizeof *fstypes);
    char **options = xcalloc(l->cgroupfs_count, sizeof *options);
    char **subdirs = xcalloc(l->cgroupfs_count, sizeof *subdirs);
    for (size_t i = 0; i < l->cgroupfs_count; i++) {
      fstypes[i] = l->cgroupfs[i].fstype;
      options[i] = l->cgroupfs[i].options;
      subdirs[i] = l->cgroupfs[i].subdir;
    }
    if (bt_mount_cgroupfs(rootfd, fstypes, options, subdirs, l->cgroupfs_count, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
  }
  for (size_t i = 0; i < l->device_count; i++) {
    const bt_device_node *d = &l->devices[i];
    if (bt_make_device_node(rootfd, d->path, d->type, d->major, d->minor, d->mode, d->uid, d->gid,
                            &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
  }
  /* User mounts after /dev and /sys so that a mount below them is not hidden by those mounts;
   * in directive order (berth sorts them so that a mount inside another comes after it). */
  for (size_t i = 0; i < l->bind_count; i++)
    if (user_mount(rootfd, &l->binds[i], slave_root, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
  if (userns_fd >= 0 && own_runtime_mounts(l, rootfd, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);

  /* 3. Switch root. From here on every path is the container's. */
  if (bt_pivot_root(rootfd, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);

  /* 4. The terminal, from the container's own devpts so that ttyname() works inside. */
  if (l->tty) {
    int master = -1, slave = -1;
    if (bt_open_pty(&master, &slave, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
    if (send_fd(sock, master, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
    close(master);
    if (dup_stdio(slave, slave, slave, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
    close(slave);
  }

  /* The rootfs descriptor and the pipe ends are done with: from here on only stdio and sock. */
  close_all_but(sock, init_fd, userns_fd);

  /* 4b. sysctls: /proc is the container's, its /proc/sys still writable (made read-only below);
   *     the net.* ones apply to the container's own network namespace. */
  for (size_t i = 0; i < l->sysctl_count; i++)
    if (bt_set_sysctl(l->sysctls[i].name, l->sysctls[i].value, &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);

  /* 5. Masked then read-only paths: both need /proc and /sys mounted, and masking first means a
   *    masked path below a read-only one (none today) would still be hidden. */
  for (size_t i = 0; i < l->masked.count; i++)
    if (bt_mask_path(l->masked.items[i], &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
  for (size_t i = 0; i < l->readonly.count; i++)
    if (bt_readonly_path(l->readonly.items[i], &err) < 0)
      child_fail(sock, BT_EXIT_SETUP, err);
  if (l->readonly_rootfs && bt_readonly_root(&err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);

  /* 6. Identity and network. */
  if (l->hostname != NULL && *l->hostname != '\0' && bt_set_hostname(l->hostname, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  if (l->domainname != NULL && *l->domainname != '\0' && bt_set_domainname(l->domainname, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  if (bt_loopback_up(&err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);
  /* 6b. Everything above needed the host's privileges; from here on the container's root is
   *     the user namespace's (its working directory is then created by it, as its own). */
  if (userns_fd >= 0)
    enter_userns(l, sock, userns_fd);
  if (bt_enter_cwd(l->cwd, &err) < 0)
    child_fail(sock, BT_EXIT_SETUP, err);

  /* 7. With an init, PID 1 is the sealed copy of berth-init, argv "/dev/init -- argv...": the
   *    reaper execs the command itself. (No file is bound at /dev/init: the name is only argv[0].) */
  if (init_fd >= 0) {
    bt_launch with_init = *l;
    char **argv = xcalloc(l->args.count + 3, sizeof *argv);
    argv[0] = (char *)"/dev/init";
    argv[1] = (char *)"--";
    for (size_t i = 0; i < l->args.count; i++)
      argv[i + 2] = l->args.items[i];
    with_init.args.items = argv;
    with_init.args.count = l->args.count + 2;
    finish_and_exec(&with_init, sock, l->tty, "/dev/init", init_fd, filter);
  }
  finish_and_exec(l, sock, l->tty, l->args.items[0], -1, filter);
}

/* The compiled filter of a launch, or NULL without one (filter->filter malloc'd). */
static int compile_filter(const bt_launch *l, struct sock_fprog *filter, const struct sock_fprog **out,
                          bt_error **err) {
  *out = NULL;
  if (!l->seccomp.enabled)
    return 0;
  if (bt_seccomp_compile(&l->seccomp, filter, err) < 0)
    return -1;
  *out = filter;
  return 0;
}

/* ---- parent side ------------------------------------------------------------------------- */

/* Read records until EOF (the child exec'd). A PTY record stores the master in *pty. An ERROR
 * record fills err/exit_code and returns -1. */
static int wait_for_exec(int sock, int *pty, int *exit_code, bt_error **err) {
  for (;;) {
    record r;
    struct iovec iov = {.iov_base = &r, .iov_len = sizeof r};
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      *exit_code = BT_EXIT_SETUP;
      return bt_error_sys(err, "read from container setup");
    }
    if (n == 0) {
      /* EOF of a held start: its process went and exec'd -- or died while it waited. */
      struct timespec went, ready;
      if (bt_hold_active() && !bt_hold_went(&went, &ready)) {
        *exit_code = BT_EXIT_SETUP;
        return bt_error_make(err, 0, "the held container process ended before its deadline");
      }
      return 0;
    }
    if ((size_t)n != sizeof r) {
      *exit_code = BT_EXIT_SETUP;
      return bt_error_make(err, EPROTO, "short record from container setup");
    }
    if (r.kind == RECORD_PTY) {
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      if (c == NULL || c->cmsg_type != SCM_RIGHTS) {
        *exit_code = BT_EXIT_SETUP;
        return bt_error_make(err, EPROTO, "pty record without a descriptor");
      }
      memcpy(pty, CMSG_DATA(c), sizeof *pty);
      continue;
    }
    if (r.kind == RECORD_READY) {
      *exit_code = BT_EXIT_SETUP;
      if (bt_hold_wait(sock, err) < 0)
        return -1;
      continue;
    }
    r.message[sizeof r.message - 1] = '\0';
    *exit_code = r.exit_code;
    /* The child already formatted "<what>: <strerror>"; keep it as is. */
    return bt_error_make(err, 0, "%s", r.message);
  }
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

typedef struct stdio_pipes {
  int in[2], out[2], err[2];
} stdio_pipes;

#define STDIO_PIPES_NONE {{-1, -1}, {-1, -1}, {-1, -1}}

/* Cleanup attribute: whatever ends are still held are closed. */
static void close_pipes(stdio_pipes *p) {
  for (int i = 0; i < 2; i++) {
    close_fd(&p->in[i]);
    close_fd(&p->out[i]);
    close_fd(&p->err[i]);
  }
}
#define cleanup_pipes __attribute__((cleanup(close_pipes)))

/* Pipes for a non-tty process; stdin is /dev/null unless stdin_open. Host-side ends are
 * returned in out; the child's ends stay in p (closed by the caller after fork). */
static int make_pipes(bool tty, bool stdin_open, stdio_pipes *p, bt_error **err) {
  if (tty)
    return 0;
  if (stdin_open) {
    if (pipe2(p->in, O_CLOEXEC) < 0)
      return bt_error_sys(err, "pipe for stdin");
  } else {
    p->in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (p->in[0] < 0)
      return bt_error_sys(err, "open /dev/null");
  }
  if (pipe2(p->out, O_CLOEXEC) < 0 || pipe2(p->err, O_CLOEXEC) < 0)
    return bt_error_sys(err, "pipe for stdout/stderr");
  return 0;
}

/* A child whose setup failed (or that we gave up on): kill it (harmless when it has already
 * exited), reap it. */
static void abandon_child(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* After fork, in the parent: close the child's ends of the stdio pipes, move ours into out (so
 * the pipes' cleanup no longer owns them). */
static void adopt_child_stdio(bt_process *out, stdio_pipes *p, pid_t pid) {
  close_fd(&p->in[0]);
  close_fd(&p->out[1]);
  close_fd(&p->err[1]);
  out->pid = pid;
  out->stdin_fd = take_fd(&p->in[1]);
  out->stdout_fd = take_fd(&p->out[0]);
  out->stderr_fd = take_fd(&p->err[0]);
}

/* Everything a start acquired on the host, undone by a cleanup attribute unless the start
 * succeeded (commit = true): the child (killed and reaped), our stdio ends, the overlay. */
typedef struct start_guard {
  const bt_launch *launch;
  bt_process *process;
  bool commit;
} start_guard;

static void undo_start(start_guard *g) {
  if (g->commit)
    return;
  bt_process *out = g->process;
  if (out->pid > 0)
    abandon_child(out->pid);
  out->pid = -1;
  close_fd(&out->stdin_fd);
  close_fd(&out->stdout_fd);
  close_fd(&out->stderr_fd);
  close_fd(&out->pty_master);
  if (g->launch != NULL)
    bt_spawn_cleanup(g->launch, out, NULL);
}
#define cleanup_start __attribute__((cleanup(undo_start)))

/* The cgroup.procs files exec opens before setns. */
enum { MAX_EXEC_CGROUPS = 32 };
typedef struct procs_files {
  int fds[MAX_EXEC_CGROUPS];
  size_t count;
} procs_files;

static void close_procs(procs_files *p) {
  while (p->count > 0)
    close(p->fds[--p->count]);
}
#define cleanup_procs __attribute__((cleanup(close_procs)))
#define cleanup_reap __attribute__((cleanup(bt_userns_reap)))

int bt_spawn_container(const bt_launch *l, bt_process *out, int *exit_code, bt_error **err) {
  *out = (bt_process){.pid = -1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                      .pty_master = -1};
  *exit_code = BT_EXIT_SETUP;
  cleanup_start start_guard guard = {.launch = l, .process = out};

  /* The seccomp program is compiled here, before clone: nothing of the container is read. */
  struct sock_fprog compiled = {0};
  const struct sock_fprog *filter = NULL;
  if (compile_filter(l, &compiled, &filter, err) < 0)
    return -1;
  cleanup_free struct sock_filter *filter_insns = compiled.filter;

  /* A remapped user namespace, made before the overlay: its map is the idmap of the layers. */
  cleanup_close int userns_fd = -1;
  cleanup_reap pid_t userns_helper = -1;
  bt_idmap idmap = idmap_of(l);
  if (l->userns && bt_userns_create(&idmap, &userns_fd, &userns_helper, err) < 0)
    return -1;

  /* The overlay is mounted in the shim's (host) mount namespace, before clone: the container's
   * namespace is a copy and sees it, and the shim can unmount it after the exit. */
  if (l->overlay_mountpoint != NULL) {
    if ((l->userns ? bt_overlay_mount_idmapped(l->overlay_mountpoint, l->overlay_options,
                                               l->overlay_chdir, userns_fd, &idmap, err)
                   : bt_overlay_mount(l->overlay_mountpoint, l->overlay_options, l->overlay_chdir,
                                      err)) < 0)
      return -1;
    out->overlay_mounted = true;
  }

  /* berth-init, read from the host now and run from a sealed copy (sealed.h). */
  cleanup_close int init_fd = -1;
  if (l->init != NULL && bt_sealed_copy_of_path(l->init, "berth-init", &init_fd, err) < 0)
    return bt_error_wrap(err, "init");

  cleanup_pipes stdio_pipes p = STDIO_PIPES_NONE;
  if (make_pipes(l->tty, l->stdin_open, &p, err) < 0)
    return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return bt_error_sys(err, "socketpair");
  cleanup_close int sock_parent = sv[0];
  cleanup_close int sock_child = sv[1];

  /* A prepared network namespace (the `netns` directive) is opened here, on the host's paths,
   * and joined by the child; without one the child gets a fresh namespace from clone. */
  cleanup_close int netns_fd = -1;
  if (l->netns != NULL) {
    netns_fd = open(l->netns, O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0)
      return bt_error_sys(err, "open network namespace %s", l->netns);
  }

  /* The new pid namespace makes the child PID 1 of it; the mount, UTS, IPC and (unless one was
   * prepared) network namespaces are fresh from the start. The cgroup namespace is created later
   * by the child, once it is in its cgroup. SIGCHLD makes the child waitable like a fork. */
  unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                        (netns_fd >= 0 ? 0 : CLONE_NEWNET);
  /* On cgroup v2 (one directory) the child is created in its cgroup (clone3 CLONE_INTO_CGROUP):
   * no move after the fact, which costs a process migration under the cgroup lock. A kernel
   * without clone3 or the flag refuses it before creating anything: then clone, and move. */
  cleanup_close int cgroup_fd = -1;
  if (l->cgroups.count == 1 && bt_cgroup_v2_dir(l->cgroups.items[0], &cgroup_fd, err) < 0)
    return -1;
  pid_t pid = -1;
  bool in_cgroup = false;
  if (cgroup_fd >= 0) {
    pid = sys_clone3_into_cgroup(flags, cgroup_fd);
    in_cgroup = pid >= 0;
    if (pid < 0 && errno != ENOSYS && errno != E2BIG && errno != EINVAL)
      return bt_error_sys(err, "clone3 into cgroup %s", l->cgroups.items[0]);
  }
  if (!in_cgroup)
    pid = sys_clone_fork(flags | SIGCHLD);
  if (pid < 0)
    return bt_error_sys(err, "clone");
  if (pid == 0) {
    close(sock_parent);
    container_child(l, sock_child, p.in[0], p.out[1], p.err[1], netns_fd, init_fd, userns_fd,
                    filter);
  }
  close_fd(&sock_child);
  adopt_child_stdio(out, &p, pid);

  for (size_t i = 0; i < l->cgroups.count && !in_cgroup; i++)
    if (bt_cgroup_join(l->cgroups.items[i], pid, err) < 0)
      return -1;
  if (write(sock_parent, "g", 1) != 1)
    return bt_error_sys(err, "release container setup");
  if (wait_for_exec(sock_parent, &out->pty_master, exit_code, err) < 0)
    return -1;
  guard.commit = true;
  *exit_code = 0;
  return 0;
}

int bt_spawn_exec(const bt_launch *l, bt_process *out, int *exit_code, bt_error **err) {
  *out = (bt_process){.pid = -1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                      .pty_master = -1};
  *exit_code = BT_EXIT_SETUP;
  cleanup_start start_guard guard = {.launch = NULL, .process = out};

  struct sock_fprog compiled = {0};
  const struct sock_fprog *filter = NULL;
  if (compile_filter(l, &compiled, &filter, err) < 0)
    return -1;
  cleanup_free struct sock_filter *filter_insns = compiled.filter;

  /* Only the forked child joins the container's cgroups (below): this relay process stays out
   * of them, so it never counts against the container's memory or pids limits. The cgroup.procs
   * files are opened now, while the host's /sys/fs/cgroup is still what we see: after setns into
   * the container's mount namespace it is not. */
  cleanup_procs procs_files procs = {.count = 0};
  if (l->cgroups.count > MAX_EXEC_CGROUPS)
    return bt_error_make(err, E2BIG, "too many cgroup directories (%zu)", l->cgroups.count);
  for (; procs.count < l->cgroups.count; procs.count++)
    if (bt_cgroup_open_procs(l->cgroups.items[procs.count], &procs.fds[procs.count], err) < 0)
      return -1;
  /* A remapped container's user namespace: only the forked child enters it (last, after every
   * other namespace, which the host's namespace owns); this relay stays the host's. */
  cleanup_close int userns_fd = -1;
  if (l->userns && bt_userns_of(l->pid, &userns_fd, err) < 0)
    return -1;
  if (bt_join_namespaces(l->pid, err) < 0)
    return -1;

  /* We are now in the container's mount namespace, so /dev/ptmx is the container's devpts:
   * the parent can open the pty itself. */
  cleanup_close int slave = -1;
  if (l->tty && bt_open_pty(&out->pty_master, &slave, err) < 0)
    return -1;
  cleanup_pipes stdio_pipes p = STDIO_PIPES_NONE;
  if (make_pipes(l->tty, l->stdin_open, &p, err) < 0)
    return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return bt_error_sys(err, "socketpair");
  cleanup_close int sock_parent = sv[0];
  cleanup_close int sock_child = sv[1];

  /* setns(CLONE_NEWPID) only placed our future children in the container's pid namespace: this
   * fork is what enters it. */
  pid_t pid = fork();
  if (pid < 0)
    return bt_error_sys(err, "fork");
  if (pid == 0) {
    bt_error *cerr = NULL;
    close(sock_parent);
    reset_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Wait until the parent has placed us in the container's cgroups: nothing of the command
     * may run outside them. EOF (the parent failed) ends us. */
    char go;
    ssize_t got;
    while ((got = read(sock_child, &go, 1)) < 0 && errno == EINTR)
      ;
    if (got != 1)
      _exit(BT_EXIT_SETUP);
    umask(0);
    if (l->tty) {
      if (dup_stdio(slave, slave, slave, &cerr) < 0)
        child_fail(sock_child, BT_EXIT_SETUP, cerr);
    } else if (dup_stdio(p.in[0], p.out[1], p.err[1], &cerr) < 0) {
      child_fail(sock_child, BT_EXIT_SETUP, cerr);
    }
    if (userns_fd >= 0)
      enter_userns(l, sock_child, userns_fd);
    /* the host's cgroup.procs files, the pipes' other ends, the signalfd: none may be reachable */
    close_all_but(sock_child, -1, -1);
    if (bt_enter_cwd(l->cwd, &cerr) < 0)
      child_fail(sock_child, BT_EXIT_SETUP, cerr);
    finish_and_exec(l, sock_child, l->tty, l->args.items[0], -1, filter);
  }
  close_fd(&sock_child);
  close_fd(&slave);
  adopt_child_stdio(out, &p, pid);
  for (size_t i = 0; i < procs.count; i++)
    if (bt_cgroup_write_pid(procs.fds[i], l->cgroups.items[i], pid, err) < 0)
      return -1;
  close_procs(&procs);
  if (write(sock_parent, "g", 1) != 1)
    return bt_error_sys(err, "release exec child");
  int unused_pty = -1;
  if (wait_for_exec(sock_parent, &unused_pty, exit_code, err) < 0)
    return -1;
  guard.commit = true;
  *exit_code = 0;
  return 0;
}

int bt_spawn_cleanup(const bt_launch *l, bt_process *process, bt_error **err) {
  if (!process->overlay_mounted)
    return 0;
  process->overlay_mounted = false;
  return bt_overlay_umount(l->overlay_mountpoint, err);
}
