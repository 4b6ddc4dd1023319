/* Launch-file parsing and the bundle records (PROTOCOL.md). */
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

/* ---- field escaping ---------------------------------------------------------------------- */

char *bt_field_unescape(const char *field, size_t len) {
  char *out = xmalloc(len + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (field[i] == '\\' && i + 1 < len) {
      char c = field[++i];
      out[o++] = c == 't' ? '\t' : c == 'n' ? '\n' : c;
    } else {
      out[o++] = field[i];
    }
  }
  out[o] = '\0';
  return out;
}

char *bt_field_escape(const char *field) {
  size_t len = strlen(field);
  char *out = xmalloc(2 * len + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    switch (field[i]) {
    case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
    case '\t': out[o++] = '\\'; out[o++] = 't'; break;
    case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
    default: out[o++] = field[i];
    }
  }
  out[o] = '\0';
  return out;
}

/* ---- small parsers ----------------------------------------------------------------------- */

static void strv_push(bt_strv *v, char *s) {
  v->items = xrealloc(v->items, (v->count + 2) * sizeof *v->items);
  v->items[v->count++] = s;
  v->items[v->count] = NULL; /* always NULL-terminated: usable as argv/envp */
}

static void strv_free(bt_strv *v) {
  for (size_t i = 0; i < v->count; i++)
    free(v->items[i]);
  free(v->items);
  v->items = NULL;
  v->count = 0;
}

static int parse_u64(const char *s, unsigned long long *out) {
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

static int parse_bool(const char *s, bool *out) {
  if (strcmp(s, "0") == 0) {
    *out = false;
    return 0;
  }
  if (strcmp(s, "1") == 0) {
    *out = true;
    return 0;
  }
  return -1;
}

static int parse_rlim(const char *s, rlim_t *out) {
  if (strcmp(s, "unlimited") == 0) {
    *out = RLIM_INFINITY;
    return 0;
  }
  unsigned long long v;
  if (parse_u64(s, &v) < 0)
    return -1;
  *out = (rlim_t)v;
  return 0;
}

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"CPU", RLIMIT_CPU},       {"FSIZE", RLIMIT_FSIZE},         {"DATA", RLIMIT_DATA},
    {"STACK", RLIMIT_STACK},   {"CORE", RLIMIT_CORE},           {"RSS", RLIMIT_RSS},
    {"NPROC", RLIMIT_NPROC},   {"NOFILE", RLIMIT_NOFILE},       {"MEMLOCK", RLIMIT_MEMLOCK},
    {"AS", RLIMIT_AS},         {"LOCKS", RLIMIT_LOCKS},         {"SIGPENDING", RLIMIT_SIGPENDING},
    {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},       {"RTPRIO", RLIMIT_RTPRIO},
    {"RTTIME", RLIMIT_RTTIME},
};

int bt_rlimit_from_name(const char *name) {
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (strcmp(rlimit_names[i].name, name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

/* The options field of `bind` and the flags field of `tmpfs`: comma-separated words. `bind`
 * needs ro or rw first; propagation, norecursive and toponly are for binds only. */
static int parse_mount_options(bt_bind *m, const char *text, bool is_bind, bt_error **err) {
  cleanup_free char *copy = xstrdup(text);
  char *save = NULL;
  bool first = true;
  for (char *w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save), first = false) {
    if (strcmp(w, "ro") == 0) m->readonly = true;
    else if (strcmp(w, "rw") == 0) m->readonly = false;
    else if (strcmp(w, "nosuid") == 0) m->attrs |= MOUNT_ATTR_NOSUID;
    else if (strcmp(w, "nodev") == 0) m->attrs |= MOUNT_ATTR_NODEV;
    else if (strcmp(w, "noexec") == 0) m->attrs |= MOUNT_ATTR_NOEXEC;
    else if (is_bind && strcmp(w, "norecursive") == 0) m->nonrecursive = true;
    else if (is_bind && strcmp(w, "toponly") == 0) m->toponly = true;
    else if (is_bind && (strcmp(w, "private") == 0 || strcmp(w, "rprivate") == 0)) {
      m->propagation = MS_PRIVATE;
      m->propagation_recursive = w[0] == 'r';
    } else if (is_bind && (strcmp(w, "slave") == 0 || strcmp(w, "rslave") == 0)) {
      m->propagation = MS_SLAVE;
      m->propagation_recursive = w[0] == 'r';
    } else if (is_bind && (strcmp(w, "shared") == 0 || strcmp(w, "rshared") == 0)) {
      m->propagation = MS_SHARED;
      m->propagation_recursive = w[0] == 'r';
    } else
      return bt_error_make(err, 0, "%s: unknown mount option %s", is_bind ? "bind" : "tmpfs", w);
    if (first && is_bind && strcmp(w, "ro") != 0 && strcmp(w, "rw") != 0)
      return bt_error_make(err, 0, "bind: expected ro or rw, got %s", text);
  }
  if (is_bind && first)
    return bt_error_make(err, 0, "bind: expected ro or rw, got %s", text);
  return 0;
}

static bt_bind *push_mount(bt_launch *l) {
  l->binds = xrealloc(l->binds, (l->bind_count + 1) * sizeof *l->binds);
  bt_bind *m = &l->binds[l->bind_count++];
  memset(m, 0, sizeof *m);
  return m;
}

static const char *const seccomp_actions[] = {
    [BT_SCMP_ALLOW] = "allow", [BT_SCMP_ERRNO] = "errno", [BT_SCMP_KILL_THREAD] = "kill_thread",
    [BT_SCMP_KILL_PROCESS] = "kill_process", [BT_SCMP_TRAP] = "trap", [BT_SCMP_LOG] = "log",
    [BT_SCMP_TRACE] = "trace",
};
static const char *const cmp_ops[] = {
    [BT_CMP_NE] = "ne", [BT_CMP_LT] = "lt", [BT_CMP_LE] = "le", [BT_CMP_EQ] = "eq",
    [BT_CMP_GE] = "ge", [BT_CMP_GT] = "gt", [BT_CMP_MASKED_EQ] = "masked_eq",
};

static int parse_seccomp_action(const char *name, const char *errnum, bt_seccomp_action *out) {
  unsigned long long e;
  if (parse_u64(errnum, &e) < 0 || e > 4095)
    return -1;
  for (size_t i = 0; i < sizeof seccomp_actions / sizeof seccomp_actions[0]; i++) {
    if (strcmp(seccomp_actions[i], name) == 0) {
      *out = (bt_seccomp_action){.kind = (bt_seccomp_action_kind)i, .errnum = (unsigned)e};
      return 0;
    }
  }
  return -1;
}

/* "index:op:value[:value_two]" conditions, comma-separated; empty means none. */
static int parse_seccomp_args(const char *text, bt_seccomp_rule *r) {
  if (*text == '\0')
    return 0;
  cleanup_free char *copy = xstrdup(text);
  char *save = NULL;
  for (char *cond = strtok_r(copy, ",", &save); cond != NULL; cond = strtok_r(NULL, ",", &save)) {
    if (r->arg_count == 6)
      return -1;
    char *parts[4] = {0};
    size_t n = 0;
    char *psave = NULL;
    for (char *p = strtok_r(cond, ":", &psave); p != NULL && n < 4; p = strtok_r(NULL, ":", &psave))
      parts[n++] = p;
    unsigned long long index, value, value_two = 0;
    if (n < 3 || parse_u64(parts[0], &index) < 0 || index > 5 || parse_u64(parts[2], &value) < 0 ||
        (n == 4 && parse_u64(parts[3], &value_two) < 0))
      return -1;
    int op = -1;
    for (size_t i = 0; i < sizeof cmp_ops / sizeof cmp_ops[0]; i++)
      if (strcmp(cmp_ops[i], parts[1]) == 0)
        op = (int)i;
    if (op < 0)
      return -1;
    r->args[r->arg_count++] = (bt_seccomp_arg){.index = (unsigned)index, .op = (bt_cmp_op)op,
                                               .value = value, .value_two = value_two};
  }
  return 0;
}

/* ---- directives -------------------------------------------------------------------------- */

/* Apply one directive (its fields already unescaped) to the launch. Returns -1 with err set. */
static int apply(bt_launch *l, char **f, size_t n, bt_error **err) {
  const char *d = f[0];
  size_t want;

/* Set a single-valued string field; a second occurrence is an error so that two writers
 * disagreeing cannot silently produce "the last one wins". */
#define SINGLE(field)                                                                              \
  do {                                                                                             \
    if (l->field != NULL)                                                                          \
      return bt_error_make(err, 0, "directive %s repeated", d);                                    \
    l->field = take_ptr(f[1]);                                                                     \
  } while (0)

  /* Field counts of the directives that take more than one field (the rest take exactly one).
   * A new directive goes here and in the chain below (PROTOCOL.md lists them all). `bind` takes
   * an optional fourth field (the subpath). */
  static const struct { const char *name; size_t fields; } multi[] = {
      {"overlay", 3}, {"oom", 2}, {"rlimit", 3}, {"bind", 3}, {"tmpfs", 4}, {"seccomp", 2},
      {"seccomp_rule", 4}, {"seccomp_cache", 2}, {"sysctl", 2}, {"device", 7}, {"cgroupfs", 3},
      {"userns", 3},
  };
  want = 2;
  for (size_t i = 0; i < sizeof multi / sizeof multi[0]; i++)
    if (strcmp(d, multi[i].name) == 0)
      want = multi[i].fields + 1;
  if (strcmp(d, "bind") == 0 && n == 5)
    want = 5;
  if (n != want)
    return bt_error_make(err, 0, "directive %s takes %zu field(s), got %zu", d, want - 1, n - 1);

  if (strcmp(d, "id") == 0) SINGLE(id);
  else if (strcmp(d, "bundle") == 0) SINGLE(bundle);
  else if (strcmp(d, "rootfs") == 0) SINGLE(rootfs);
  else if (strcmp(d, "hostname") == 0) SINGLE(hostname);
  else if (strcmp(d, "domainname") == 0) SINGLE(domainname);
  else if (strcmp(d, "netns") == 0) SINGLE(netns);
  else if (strcmp(d, "cwd") == 0) SINGLE(cwd);
  else if (strcmp(d, "user") == 0) SINGLE(user);
  else if (strcmp(d, "init") == 0) SINGLE(init);
  else if (strcmp(d, "log") == 0) SINGLE(log);
  else if (strcmp(d, "arg") == 0) strv_push(&l->args, take_ptr(f[1]));
  else if (strcmp(d, "env") == 0) strv_push(&l->env, take_ptr(f[1]));
  else if (strcmp(d, "cgroup") == 0) strv_push(&l->cgroups, take_ptr(f[1]));
  else if (strcmp(d, "mask") == 0) strv_push(&l->masked, take_ptr(f[1]));
  else if (strcmp(d, "readonly") == 0) strv_push(&l->readonly, take_ptr(f[1]));
  else if (strcmp(d, "on_exit") == 0) strv_push(&l->on_exit, take_ptr(f[1]));
  else if (strcmp(d, "overlay") == 0) {
    if (l->overlay_mountpoint != NULL)
      return bt_error_make(err, 0, "directive overlay repeated");
    l->overlay_mountpoint = take_ptr(f[1]);
    l->overlay_options = take_ptr(f[2]);
    l->overlay_chdir = take_ptr(f[3]);
  } else if (strcmp(d, "oom") == 0) {
    if (l->oom_file != NULL)
      return bt_error_make(err, 0, "directive oom repeated");
    l->oom_file = take_ptr(f[1]);
    l->oom_key = take_ptr(f[2]);
  } else if (strcmp(d, "cap") == 0) {
    unsigned long long v;
    if (parse_u64(f[1], &v) < 0 || v > 63)
      return bt_error_make(err, 0, "cap: not a capability number: %s", f[1]);
    l->caps = xrealloc(l->caps, (l->cap_count + 1) * sizeof *l->caps);
    l->caps[l->cap_count++] = (int)v;
  } else if (strcmp(d, "no_new_privs") == 0) {
    if (parse_bool(f[1], &l->no_new_privs) < 0)
      return bt_error_make(err, 0, "no_new_privs: expected 0 or 1, got %s", f[1]);
  } else if (strcmp(d, "tty") == 0) {
    if (parse_bool(f[1], &l->tty) < 0)
      return bt_error_make(err, 0, "tty: expected 0 or 1, got %s", f[1]);
  } else if (strcmp(d, "stdin") == 0) {
    if (parse_bool(f[1], &l->stdin_open) < 0)
      return bt_error_make(err, 0, "stdin: expected 0 or 1, got %s", f[1]);
  } else if (strcmp(d, "shm_size") == 0) {
    if (parse_u64(f[1], &l->shm_size) < 0)
      return bt_error_make(err, 0, "shm_size: not a number of bytes: %s", f[1]);
    l->has_shm_size = true;
  } else if (strcmp(d, "pid") == 0) {
    unsigned long long v;
    if (parse_u64(f[1], &v) < 0 || v == 0 || v > INT_MAX)
      return bt_error_make(err, 0, "pid: not a process id: %s", f[1]);
    l->pid = (pid_t)v;
  } else if (strcmp(d, "rlimit") == 0) {
    int resource = bt_rlimit_from_name(f[1]);
    if (resource < 0)
      return bt_error_make(err, 0, "rlimit: unknown resource %s", f[1]);
    bt_rlimit r = {.resource = resource};
    if (parse_rlim(f[2], &r.soft) < 0 || parse_rlim(f[3], &r.hard) < 0)
      return bt_error_make(err, 0, "rlimit %s: bad limit %s %s", f[1], f[2], f[3]);
    r.name = take_ptr(f[1]);
    l->rlimits = xrealloc(l->rlimits, (l->rlimit_count + 1) * sizeof *l->rlimits);
    l->rlimits[l->rlimit_count++] = r;
  } else if (strcmp(d, "bind") == 0) {
    if (f[2][0] != '/')
      return bt_error_make(err, 0, "bind: target must be absolute: %s", f[2]);
    if (n == 5 && (f[4][0] == '/' || f[4][0] == '\0'))
      return bt_error_make(err, 0, "bind: subpath must be relative and not empty: %s", f[4]);
    bt_bind *m = push_mount(l);
    m->kind = BT_MOUNT_BIND;
    m->source = take_ptr(f[1]);
    m->target = take_ptr(f[2]);
    m->options = take_ptr(f[3]);
    if (n == 5)
      m->subpath = take_ptr(f[4]);
    if (parse_mount_options(m, m->options, true, err) < 0)
      return -1;
  } else if (strcmp(d, "tmpfs") == 0) {
    /* tmpfs <target> <size bytes> <octal mode> <flags> */
    if (f[1][0] != '/')
      return bt_error_make(err, 0, "tmpfs: target must be absolute: %s", f[1]);
    unsigned long long size;
    if (parse_u64(f[2], &size) < 0)
      return bt_error_make(err, 0, "tmpfs: not a number of bytes: %s", f[2]);
    char *end = NULL;
    errno = 0;
    unsigned long mode = strtoul(f[3], &end, 8);
    if (f[3][0] == '\0' || *end != '\0' || errno != 0 || mode > 07777)
      return bt_error_make(err, 0, "tmpfs: not an octal mode: %s", f[3]);
    bt_bind *m = push_mount(l);
    m->kind = BT_MOUNT_TMPFS;
    m->target = take_ptr(f[1]);
    m->size = size;
    m->mode = (unsigned int)mode;
    m->options = take_ptr(f[4]);
    if (m->options[0] != '\0' && parse_mount_options(m, m->options, false, err) < 0)
      return -1;
  } else if (strcmp(d, "seccomp") == 0) {
    if (l->seccomp.enabled)
      return bt_error_make(err, 0, "directive seccomp repeated");
    if (parse_seccomp_action(f[1], f[2], &l->seccomp.default_action) < 0)
      return bt_error_make(err, 0, "seccomp: unknown action %s %s", f[1], f[2]);
    l->seccomp.enabled = true;
  } else if (strcmp(d, "seccomp_cache") == 0) {
    if (l->seccomp.cache_dir != NULL)
      return bt_error_make(err, 0, "directive seccomp_cache repeated");
    if (f[1][0] != '/' || strspn(f[2], "0123456789abcdef") != strlen(f[2]) || strlen(f[2]) != 64)
      return bt_error_make(err, 0, "seccomp_cache: expected an absolute directory and a sha256 key");
    l->seccomp.cache_dir = take_ptr(f[1]);
    l->seccomp.cache_key = take_ptr(f[2]);
  } else if (strcmp(d, "seccomp_arch") == 0) {
    strv_push(&l->seccomp.arches, take_ptr(f[1]));
  } else if (strcmp(d, "seccomp_rule") == 0) {
    bt_seccomp_rule r = {0};
    if (parse_seccomp_action(f[1], f[2], &r.action) < 0)
      return bt_error_make(err, 0, "seccomp_rule: unknown action %s %s", f[1], f[2]);
    if (parse_seccomp_args(f[4], &r) < 0)
      return bt_error_make(err, 0, "seccomp_rule %s: bad argument conditions %s", f[3], f[4]);
    r.syscall = take_ptr(f[3]);
    l->seccomp.rules = xrealloc(l->seccomp.rules, (l->seccomp.rule_count + 1) * sizeof *l->seccomp.rules);
    l->seccomp.rules[l->seccomp.rule_count++] = r;
  } else if (strcmp(d, "group_add") == 0) {
    strv_push(&l->group_add, take_ptr(f[1]));
  } else if (strcmp(d, "readonly_rootfs") == 0) {
    if (parse_bool(f[1], &l->readonly_rootfs) < 0)
      return bt_error_make(err, 0, "readonly_rootfs: expected 0 or 1, got %s", f[1]);
  } else if (strcmp(d, "sysfs_rw") == 0) {
    if (parse_bool(f[1], &l->sysfs_rw) < 0)
      return bt_error_make(err, 0, "sysfs_rw: expected 0 or 1, got %s", f[1]);
  } else if (strcmp(d, "sysctl") == 0) {
    if (f[1][0] == '\0' || strstr(f[1], "..") != NULL || strchr(f[1], '/') != NULL)
      return bt_error_make(err, 0, "sysctl: bad name %s", f[1]);
    l->sysctls = xrealloc(l->sysctls, (l->sysctl_count + 1) * sizeof *l->sysctls);
    l->sysctls[l->sysctl_count++] = (bt_sysctl){.name = take_ptr(f[1]), .value = take_ptr(f[2])};
  } else if (strcmp(d, "device") == 0) {
    unsigned long long major, minor, uid, gid;
    char *end = NULL;
    unsigned long mode = strtoul(f[5], &end, 8);
    if ((strcmp(f[2], "c") != 0 && strcmp(f[2], "b") != 0) || parse_u64(f[3], &major) < 0 ||
        parse_u64(f[4], &minor) < 0 || end == f[5] || *end != '\0' || mode > 07777 ||
        parse_u64(f[6], &uid) < 0 || parse_u64(f[7], &gid) < 0 || strncmp(f[1], "/dev/", 5) != 0 ||
        strstr(f[1], "..") != NULL)
      return bt_error_make(err, 0, "device: bad node %s %s %s:%s %s %s:%s", f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
    l->devices = xrealloc(l->devices, (l->device_count + 1) * sizeof *l->devices);
    l->devices[l->device_count++] = (bt_device_node){
        .path = take_ptr(f[1]), .type = f[2][0], .major = (unsigned)major, .minor = (unsigned)minor,
        .mode = (unsigned)mode, .uid = (unsigned)uid, .gid = (unsigned)gid};
  } else if (strcmp(d, "cgroupfs") == 0) {
    if ((strcmp(f[1], "cgroup") != 0 && strcmp(f[1], "cgroup2") != 0) || strchr(f[3], '/') != NULL ||
        strcmp(f[3], "..") == 0 || strcmp(f[3], ".") == 0)
      return bt_error_make(err, 0, "cgroupfs: bad mount %s %s %s", f[1], f[2], f[3]);
    l->cgroupfs = xrealloc(l->cgroupfs, (l->cgroupfs_count + 1) * sizeof *l->cgroupfs);
    l->cgroupfs[l->cgroupfs_count++] = (bt_cgroupfs){.fstype = take_ptr(f[1]), .options = take_ptr(f[2]), .subdir = take_ptr(f[3])};
  } else if (strcmp(d, "userns") == 0) {
    /* userns <host uid of container 0> <host gid of container 0> <count> */
    unsigned long long uid, gid, count;
    if (l->userns)
      return bt_error_make(err, 0, "directive userns repeated");
    if (parse_u64(f[1], &uid) < 0 || parse_u64(f[2], &gid) < 0 || parse_u64(f[3], &count) < 0 ||
        uid == 0 || gid == 0 || count == 0 || uid + count > 4294967295ULL ||
        gid + count > 4294967295ULL)
      return bt_error_make(err, 0, "userns: bad range %s %s %s (host root must not be mapped)", f[1], f[2], f[3]);
    l->userns = true;
    l->userns_uid = (unsigned)uid;
    l->userns_gid = (unsigned)gid;
    l->userns_count = (unsigned)count;
  } else if (strcmp(d, "log_max_size") == 0) {
    if (parse_u64(f[1], &l->log_max_size) < 0)
      return bt_error_make(err, 0, "log_max_size: not a number of bytes: %s", f[1]);
  } else if (strcmp(d, "log_max_files") == 0) {
    unsigned long long v;
    if (parse_u64(f[1], &v) < 0 || v < 1 || v > 1000)
      return bt_error_make(err, 0, "log_max_files: expected 1..1000, got %s", f[1]);
    l->log_max_files = (unsigned)v;
  } else {
    /* A newer berth must never run silently with an older shim. */
    return bt_error_make(err, 0, "unknown directive %s", d);
  }
#undef SINGLE
  return 0;
}

int bt_launch_parse(const char *text, size_t len, bt_launch *out, bt_error **err) {
  memset(out, 0, sizeof *out);
  size_t pos = 0, line_no = 0;
  while (pos < len) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t line_len = nl ? (size_t)(nl - line) : len - pos;
    pos += line_len + (nl ? 1 : 0);
    line_no++;

    /* Split on raw TABs: an escaped TAB is the two characters "\t", never a raw TAB. */
    char *fields[8] = {0};
    size_t n = 0;
    size_t start = 0;
    int rc = 0;
    for (size_t i = 0; i <= line_len; i++) {
      if (i == line_len || line[i] == '\t') {
        if (n == sizeof fields / sizeof fields[0]) {
          rc = bt_error_make(err, 0, "too many fields");
          break;
        }
        fields[n++] = bt_field_unescape(line + start, i - start);
        start = i + 1;
      }
    }
    if (rc == 0) {
      if (line_no == 1) {
        char version[16];
        snprintf(version, sizeof version, "%d", BT_PROTOCOL_VERSION);
        if (n != 2 || strcmp(fields[0], "berth-launch") != 0 || strcmp(fields[1], version) != 0)
          rc = bt_error_make(err, 0, "not a version %d launch file", BT_PROTOCOL_VERSION);
      } else {
        rc = apply(out, fields, n, err);
      }
    }
    for (size_t i = 0; i < n; i++)
      free(fields[i]);
    if (rc < 0) {
      bt_launch_free(out);
      return bt_error_wrap(err, "line %zu", line_no);
    }
  }
  if (line_no == 0) {
    return bt_error_make(err, 0, "empty launch file");
  }
  return 0;
}

int bt_launch_read(const char *path, bt_launch *out, bt_error **err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bt_error_sys(err, "open launch file %s", path);
  size_t cap = 4096, len = 0;
  cleanup_free char *buf = xmalloc(cap);
  for (;;) {
    if (len == cap) {
      if (cap >= (16u << 20))
        return bt_error_make(err, EFBIG, "read launch file %s", path);
      cap *= 2;
      buf = xrealloc(buf, cap);
    }
    ssize_t r = read(fd, buf + len, cap - len);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return bt_error_sys(err, "read launch file %s", path);
    }
    if (r == 0)
      break;
    len += (size_t)r;
  }
  if (bt_launch_parse(buf, len, out, err) < 0)
    return bt_error_wrap(err, "launch file %s", path);
  return 0;
}

int bt_launch_validate_run(const bt_launch *l, bt_error **err) {
  if (l->rootfs == NULL)
    return bt_error_make(err, 0, "launch file: no rootfs directive");
  if (l->bundle == NULL)
    return bt_error_make(err, 0, "launch file: no bundle directive");
  if (l->args.count == 0)
    return bt_error_make(err, 0, "launch file: no arg directive");
  return 0;
}

int bt_launch_validate_exec(const bt_launch *l, bt_error **err) {
  if (l->pid == 0)
    return bt_error_make(err, 0, "exec file: no pid directive");
  if (l->args.count == 0)
    return bt_error_make(err, 0, "exec file: no arg directive");
  return 0;
}

void bt_launch_free(bt_launch *l) {
  free(l->id);
  free(l->bundle);
  free(l->overlay_mountpoint);
  free(l->overlay_options);
  free(l->overlay_chdir);
  free(l->rootfs);
  free(l->hostname);
  free(l->domainname);
  free(l->netns);
  strv_free(&l->args);
  strv_free(&l->env);
  free(l->cwd);
  free(l->user);
  strv_free(&l->cgroups);
  free(l->oom_file);
  free(l->oom_key);
  free(l->caps);
  for (size_t i = 0; i < l->rlimit_count; i++)
    free(l->rlimits[i].name);
  free(l->rlimits);
  strv_free(&l->masked);
  strv_free(&l->readonly);
  for (size_t i = 0; i < l->bind_count; i++) {
    free(l->binds[i].source);
    free(l->binds[i].target);
    free(l->binds[i].options);
    free(l->binds[i].subpath);
  }
  free(l->binds);
  free(l->init);
  free(l->log);
  strv_free(&l->on_exit);
  strv_free(&l->seccomp.arches);
  for (size_t i = 0; i < l->seccomp.rule_count; i++)
    free(l->seccomp.rules[i].syscall);
  free(l->seccomp.rules);
  free(l->seccomp.cache_dir);
  free(l->seccomp.cache_key);
  strv_free(&l->group_add);
  for (size_t i = 0; i < l->sysctl_count; i++) {
    free(l->sysctls[i].name);
    free(l->sysctls[i].value);
  }
  free(l->sysctls);
  for (size_t i = 0; i < l->device_count; i++)
    free(l->devices[i].path);
  free(l->devices);
  for (size_t i = 0; i < l->cgroupfs_count; i++) {
    free(l->cgroupfs[i].fstype);
    free(l->cgroupfs[i].options);
    free(l->cgroupfs[i].subdir);
  }
  free(l->cgroupfs);
  memset(l, 0, sizeof *l);
}

/* ---- serialization (round-trip tests) ---------------------------------------------------- */

typedef struct text {
  char *buf;
  size_t len, cap;
} text;

static void text_add(text *t, const char *s) {
  size_t n = strlen(s);
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->buf = xrealloc(t->buf, t->cap);
  }
  memcpy(t->buf + t->len, s, n + 1);
  t->len += n;
}

/* Append one directive line: name, then each field escaped, TAB-separated. */
static void line(text *t, const char *name, int nfields, ...) {
  va_list ap;
  va_start(ap, nfields);
  text_add(t, name);
  for (int i = 0; i < nfields; i++) {
    cleanup_free char *e = bt_field_escape(va_arg(ap, const char *));
    text_add(t, "\t");
    text_add(t, e);
  }
  va_end(ap);
  text_add(t, "\n");
}

static const char *rlim_text(rlim_t v, char *buf, size_t size) {
  if (v == RLIM_INFINITY)
    return "unlimited";
  snprintf(buf, size, "%llu", (unsigned long long)v);
  return buf;
}

char *bt_launch_serialize(const bt_launch *l) {
  text t = {0};
  char num[32], num2[32];
  snprintf(num, sizeof num, "%d", BT_PROTOCOL_VERSION);
  line(&t, "berth-launch", 1, num);
  if (l->pid != 0) {
    snprintf(num, sizeof num, "%d", (int)l->pid);
    line(&t, "pid", 1, num);
  }
  if (l->id) line(&t, "id", 1, l->id);
  if (l->bundle) line(&t, "bundle", 1, l->bundle);
  if (l->overlay_mountpoint)
    line(&t, "overlay", 3, l->overlay_mountpoint, l->overlay_options, l->overlay_chdir);
  if (l->rootfs) line(&t, "rootfs", 1, l->rootfs);
  if (l->hostname) line(&t, "hostname", 1, l->hostname);
  if (l->domainname) line(&t, "domainname", 1, l->domainname);
  if (l->netns) line(&t, "netns", 1, l->netns);
  for (size_t i = 0; i < l->args.count; i++) line(&t, "arg", 1, l->args.items[i]);
  for (size_t i = 0; i < l->env.count; i++) line(&t, "env", 1, l->env.items[i]);
  if (l->cwd) line(&t, "cwd", 1, l->cwd);
  if (l->user) line(&t, "user", 1, l->user);
  for (size_t i = 0; i < l->cgroups.count; i++) line(&t, "cgroup", 1, l->cgroups.items[i]);
  if (l->oom_file) line(&t, "oom", 2, l->oom_file, l->oom_key);
  for (size_t i = 0; i < l->cap_count; i++) {
    snprintf(num, sizeof num, "%d", l->caps[i]);
    line(&t, "cap", 1, num);
  }
  line(&t, "no_new_privs", 1, l->no_new_privs ? "1" : "0");
  for (size_t i = 0; i < l->rlimit_count; i++)
    line(&t, "rlimit", 3, l->rlimits[i].name, rlim_text(l->rlimits[i].soft, num, sizeof num),
         rlim_text(l->rlimits[i].hard, num2, sizeof num2));
  if (l->has_shm_size) {
    snprintf(num, sizeof num, "%llu", l->shm_size);
    line(&t, "shm_size", 1, num);
  }
  for (size_t i = 0; i < l->masked.count; i++) line(&t, "mask", 1, l->masked.items[i]);
  for (size_t i = 0; i < l->readonly.count; i++) line(&t, "readonly", 1, l->readonly.items[i]);
  for (size_t i = 0; i < l->bind_count; i++) {
    const bt_bind *m = &l->binds[i];
    if (m->kind == BT_MOUNT_TMPFS) {
      snprintf(num, sizeof num, "%llu", m->size);
      snprintf(num2, sizeof num2, "%o", m->mode);
      line(&t, "tmpfs", 4, m->target, num, num2, m->options);
    } else if (m->subpath != NULL) {
      line(&t, "bind", 4, m->source, m->target, m->options, m->subpath);
    } else {
      line(&t, "bind", 3, m->source, m->target, m->options);
    }
  }
  if (l->init) line(&t, "init", 1, l->init);
  line(&t, "tty", 1, l->tty ? "1" : "0");
  line(&t, "stdin", 1, l->stdin_open ? "1" : "0");
  if (l->log) line(&t, "log", 1, l->log);
  for (size_t i = 0; i < l->on_exit.count; i++) line(&t, "on_exit", 1, l->on_exit.items[i]);
  for (size_t i = 0; i < l->group_add.count; i++) line(&t, "group_add", 1, l->group_add.items[i]);
  if (l->readonly_rootfs) line(&t, "readonly_rootfs", 1, "1");
  if (l->sysfs_rw) line(&t, "sysfs_rw", 1, "1");
  for (size_t i = 0; i < l->sysctl_count; i++) line(&t, "sysctl", 2, l->sysctls[i].name, l->sysctls[i].value);
  for (size_t i = 0; i < l->device_count; i++) {
    const bt_device_node *dn = &l->devices[i];
    char type[2] = {dn->type, 0}, ma[16], mi[16], mode[16], uid[16], gid[16];
    snprintf(ma, sizeof ma, "%u", dn->major);
    snprintf(mi, sizeof mi, "%u", dn->minor);
    snprintf(mode, sizeof mode, "%04o", dn->mode);
    snprintf(uid, sizeof uid, "%u", dn->uid);
    snprintf(gid, sizeof gid, "%u", dn->gid);
    line(&t, "device", 7, dn->path, type, ma, mi, mode, uid, gid);
  }
  for (size_t i = 0; i < l->cgroupfs_count; i++)
    line(&t, "cgroupfs", 3, l->cgroupfs[i].fstype, l->cgroupfs[i].options, l->cgroupfs[i].subdir);
  if (l->log_max_size) {
    snprintf(num, sizeof num, "%llu", l->log_max_size);
    line(&t, "log_max_size", 1, num);
  }
  if (l->log_max_files) {
    snprintf(num, sizeof num, "%u", l->log_max_files);
    line(&t, "log_max_files", 1, num);
  }
  if (l->userns) {
    char uid[16], gid[16];
    snprintf(uid, sizeof uid, "%u", l->userns_uid);
    snprintf(gid, sizeof gid, "%u", l->userns_gid);
    snprintf(num, sizeof num, "%u", l->userns_count);
    line(&t, "userns", 3, uid, gid, num);
  }
  if (l->seccomp.enabled) {
    snprintf(num, sizeof num, "%u", l->seccomp.default_action.errnum);
    line(&t, "seccomp", 2, seccomp_actions[l->seccomp.default_action.kind], num);
    if (l->seccomp.cache_dir) line(&t, "seccomp_cache", 2, l->seccomp.cache_dir, l->seccomp.cache_key);
    for (size_t i = 0; i < l->seccomp.arches.count; i++) line(&t, "seccomp_arch", 1, l->seccomp.arches.items[i]);
    for (size_t i = 0; i < l->seccomp.rule_count; i++) {
      const bt_seccomp_rule *r = &l->seccomp.rules[i];
      char args[512] = "";
      size_t used = 0;
      for (unsigned a = 0; a < r->arg_count; a++) {
        int w = snprintf(args + used, sizeof args - used, "%s%u:%s:%llu", a ? "," : "", r->args[a].index,
                         cmp_ops[r->args[a].op], r->args[a].value);
        used += (size_t)w;
        if (r->args[a].op == BT_CMP_MASKED_EQ)
          used += (size_t)snprintf(args + used, sizeof args - used, ":%llu", r->args[a].value_two);
      }
      snprintf(num, sizeof num, "%u", r->action.errnum);
      line(&t, "seccomp_rule", 4, seccomp_actions[r->action.kind], num, r->syscall, args);
    }
  }
  return t.buf;
}

/* ---- bundle records ---------------------------------------------------------------------- */

int bt_write_atomic(const char *dir, const char *name, const char *data, size_t len,
                    bt_error **err) {
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return bt_error_sys(err, "open bundle %s", dir);
  char tmp[256];
  snprintf(tmp, sizeof tmp, ".%s.tmp", name);
  cleanup_close int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return bt_error_sys(err, "create %s/%s", dir, tmp);
  if (bt_write_all(fd, data, len) < 0)
    return bt_error_sys(err, "write %s/%s", dir, tmp);
  if (fsync(fd) < 0)
    return bt_error_sys(err, "fsync %s/%s", dir, tmp);
  if (renameat(dirfd, tmp, dirfd, name) < 0)
    return bt_error_sys(err, "rename %s/%s", dir, name);
  /* The rename is only durable once the directory entry is: fsync the directory too. */
  (void)fsync(dirfd);
  return 0;
}

int bt_write_started(const char *bundle, pid_t pid, pid_t shim_pid, const char *started_at,
                     bt_error **err) {
  char buf[160];
  int n = snprintf(buf, sizeof buf, "{\"pid\":%d,\"shimPid\":%d,\"startedAt\":\"%s\"}\n", (int)pid,
                   (int)shim_pid, started_at);
  return bt_write_atomic(bundle, "started", buf, (size_t)n, err);
}

int bt_write_exited(const char *bundle, int exit_code, int signal, bool oom_killed,
                    const char *finished_at, bt_error **err) {
  char buf[192];
  int n = snprintf(buf, sizeof buf,
                   "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\"}\n",
                   exit_code, signal, oom_killed ? "true" : "false", finished_at);
  return bt_write_atomic(bundle, "exited", buf, (size_t)n, err);
}

int bt_write_error(const char *bundle, const char *message, bt_error **err) {
  size_t len = strlen(message);
  cleanup_free char *buf = xmalloc(len + 2);
  memcpy(buf, message, len);
  /* one line: a newline inside the message would break the contract */
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\n')
      buf[i] = ' ';
  buf[len] = '\n';
  return bt_write_atomic(bundle, "error", buf, len + 1, err);
}
