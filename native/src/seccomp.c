#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

/* protocol.h's action kinds and comparison operators → libseccomp's values */
static uint32_t scmp_action(bt_seccomp_action a) {
  switch (a.kind) {
  case BT_SCMP_ALLOW: return SCMP_ACT_ALLOW;
  case BT_SCMP_ERRNO: return SCMP_ACT_ERRNO(a.errnum);
  case BT_SCMP_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
  case BT_SCMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
  case BT_SCMP_TRAP: return SCMP_ACT_TRAP;
  case BT_SCMP_LOG: return SCMP_ACT_LOG;
  default: return SCMP_ACT_TRACE(a.errnum);
  }
}

static enum scmp_compare scmp_op(bt_cmp_op op) {
  static const enum scmp_compare table[] = {
      [BT_CMP_NE] = SCMP_CMP_NE, [BT_CMP_LT] = SCMP_CMP_LT, [BT_CMP_LE] = SCMP_CMP_LE,
      [BT_CMP_EQ] = SCMP_CMP_EQ, [BT_CMP_GE] = SCMP_CMP_GE, [BT_CMP_GT] = SCMP_CMP_GT,
      [BT_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
  };
  return table[op];
}

static void release_ctx(scmp_filter_ctx *ctx) {
  if (*ctx != NULL)
    seccomp_release(*ctx);
}

static int compile(const bt_seccomp *s, struct sock_fprog *prog, bt_error **err);

static void cache_path(const bt_seccomp *s, char *buf, size_t size) {
  const struct scmp_version *v = seccomp_version();
  snprintf(buf, size, "%s/%s-%u.%u.%u.bpf", s->cache_dir, s->cache_key, v->major, v->minor, v->micro);
}

/* The cached program, or -1 (absent, or not a regular file of ours of a sane size). */
static int cache_read(const char *path, struct sock_fprog *prog) {
  cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0 ||
      st.st_size == 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
      st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
    return -1;
  struct sock_filter *insns = xmalloc((size_t)st.st_size);
  if (pread(fd, insns, (size_t)st.st_size, 0) != st.st_size) {
    free(insns);
    return -1;
  }
  prog->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
  prog->filter = insns;
  return 0;
}

static void cache_write(const char *path, const struct sock_fprog *prog) {
  char tmp[PATH_MAX + 32];
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  size_t len = prog->len * sizeof(struct sock_filter);
  if (bt_write_all(fd, prog->filter, len) < 0 || rename(tmp, path) < 0)
    unlink(tmp);
}

int bt_seccomp_compile(const bt_seccomp *s, struct sock_fprog *prog, bt_error **err) {
  if (s->cache_dir == NULL)
    return compile(s, prog, err);
  char path[PATH_MAX];
  cache_path(s, path, sizeof path);
  if (cache_read(path, prog) == 0)
    return 0;
  if (compile(s, prog, err) < 0)
    return -1;
  cache_write(path, prog);
  return 0;
}

static int compile(const bt_seccomp *s, struct sock_fprog *prog, bt_error **err) {
  __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(scmp_action(s->default_action));
  if (ctx == NULL)
    return bt_error_make(err, EINVAL, "seccomp: cannot create a filter with the default action");
  /* The shim sets no_new_privs itself when asked; the filter must not force it on (Docker
   * loads its profile without NNP, so setuid programs keep working). */
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0)
    return bt_error_make(err, -rc, "seccomp: clear the no_new_privs attribute");
  for (size_t i = 0; i < s->arches.count; i++) {
    uint32_t arch = seccomp_arch_resolve_name(s->arches.items[i]);
    if (arch == 0)
      return bt_error_make(err, 0, "seccomp: unknown architecture %s", s->arches.items[i]);
    rc = seccomp_arch_add(ctx, arch);
    if (rc < 0 && rc != -EEXIST)
      return bt_error_make(err, -rc, "seccomp: add architecture %s", s->arches.items[i]);
  }
  for (size_t i = 0; i < s->rule_count; i++) {
    const bt_seccomp_rule *r = &s->rules[i];
    int nr = seccomp_syscall_resolve_name(r->syscall);
    if (nr == __NR_SCMP_ERROR)
      continue; /* a syscall this libseccomp (or architecture) does not know */
    uint32_t action = scmp_action(r->action);
    if (action == scmp_action(s->default_action))
      continue; /* libseccomp refuses rules that repeat the default */
    struct scmp_arg_cmp cmp[6];
    for (unsigned a = 0; a < r->arg_count; a++)
      cmp[a] = (struct scmp_arg_cmp){.arg = r->args[a].index, .op = scmp_op(r->args[a].op),
                                     .datum_a = r->args[a].value, .datum_b = r->args[a].value_two};
    rc = seccomp_rule_add_array(ctx, action, nr, r->arg_count, cmp);
    if (rc < 0)
      return bt_error_make(err, -rc, "seccomp: rule for %s", r->syscall);
  }
  /* libseccomp 2.5 exports to a descriptor only: a memfd, read back whole. */
  cleanup_close int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "seccomp: memfd_create");
  rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return bt_error_make(err, -rc, "seccomp: export the filter");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return bt_error_sys(err, "seccomp: stat the exported filter");
  size_t len = (size_t)st.st_size;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return bt_error_make(err, E2BIG, "seccomp: the filter has %zu bytes", len);
  struct sock_filter *insns = xmalloc(len);
  if (pread(fd, insns, len, 0) != (ssize_t)len) {
    free(insns);
    return bt_error_sys(err, "seccomp: read the exported filter");
  }
  prog->len = (unsigned short)(len / sizeof(struct sock_filter));
  prog->filter = insns;
  return 0;
}

int bt_seccomp_load(const struct sock_fprog *prog, bt_error **err) {
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
    return bt_error_sys(err, "seccomp: load the filter");
  return 0;
}

