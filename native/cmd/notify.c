/* berth-notify: inotify for watch (src/watch/notify.ts), one process per watched project.
 *
 *   berth-notify ROOT...
 *
 * Why a process and not inotify from Node: Node cannot poll an inotify descriptor (it is neither
 * a pipe, a socket nor a tty to libuv, and a blocking read would hold a thread-pool thread), and
 * Node's own fs.watch drops IN_Q_OVERFLOW silently (libuv finds no watcher for wd -1), so a lost
 * event would be a silent drift between the host and the container. Here every event is read as
 * the kernel reports it, an overflow is said out loud, and no event costs a stat.
 * docs/decisions/2026-11-30-watch-inotify-helper.md has the measurements.
 *
 * The TypeScript side decides which directories are watched (it knows the ignore rules): it sends
 * commands on stdin and reads records on stdout. Both are NUL-terminated strings:
 *
 *   stdin   +<n>:<rel>            watch directory <rel> of root n ("" = the root itself)
 *   stdout  A<n>:<rel>            the watch is in place (list the directory now: nothing is missed)
 *           E<n>:<ERRNO>:<rel>    it could not be placed (ENOENT, ENOTDIR for a symlink, ENOSPC
 *                                 at fs.inotify.max_user_watches, EEXIST when already watched)
 *           f<n>:<rel>            a non-directory was created, written, closed, changed its
 *                                 attributes or was moved in at <rel>
 *           d<n>:<rel>            a directory was created or moved in at <rel> (not watched yet)
 *           m<n>:<rel>            a directory's attributes changed
 *           x<n>:<rel>            <rel> was deleted or moved away (a directory: its whole tree)
 *           O0:                   the kernel's queue overflowed: events were lost, rescan
 *           R<n>:                 root n itself was deleted, moved or unmounted
 *
 * Directories are opened below their root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
 * and the watch is placed through /proc/self/fd/<fd>: a symlink swapped in anywhere on the path
 * can never make berth watch (and then sync from) a directory outside the root. A directory moved
 * away loses its watch and its subtree's at once (their paths are no longer true); the move's
 * destination is reported as a new directory, which the other side watches and lists afresh.
 *
 * Exits 0 when stdin closes (its parent is gone or done); the parent's death also kills it
 * (PR_SET_PDEATHSIG). A write to a parent that stopped reading blocks: the kernel's queue then
 * fills and overflows, which is reported, so memory stays bounded on both sides. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "syscalls.h"

enum { MAX_ROOTS = 256, OUT_SIZE = 1 << 16, CMD_MAX = PATH_MAX + 32 };

#define WATCH_MASK                                                                                     \
  (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO |     \
   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

/* One watched directory: wd → (root, path below the root). An open-addressing table keyed by wd
 * (wds only grow, so an array indexed by wd would grow with every directory ever created). */
typedef struct watch {
  int wd; /* 0 = empty slot, -1 = deleted */
  int root;
  char *rel;
} watch;

static struct {
  int ifd;
  int nroots;
  /* the roots by path: no descriptor of a root is held between commands, since a held reference
   * to its dentry keeps rmdir from reporting IN_DELETE_SELF (the kernel sends it when the last
   * reference goes), and a removed root must be noticed */
  const char *root_path[MAX_ROOTS];
  int root_wd[MAX_ROOTS];
  int root_gone[MAX_ROOTS];
  watch *table;
  size_t cap, used; /* used counts deleted slots too, so probing always ends */
  char out[OUT_SIZE];
  size_t out_len;
  /* the last record written, to drop exact repeats (a large write is one IN_MODIFY per write()) */
  char last[PATH_MAX + 16];
  size_t last_len;
} g;

static size_t slot_of(int wd, size_t cap) { return ((uint32_t)wd * 2654435761u) & (cap - 1); }

static watch *find(int wd) {
  if (g.cap == 0)
    return NULL;
  for (size_t i = slot_of(wd, g.cap);; i = (i + 1) & (g.cap - 1)) {
    if (g.table[i].wd == 0)
      return NULL;
    if (g.table[i].wd == wd)
      return &g.table[i];
  }
}

static void insert(int wd, int root, char *rel);

static void grow(void) {
  size_t old_cap = g.cap;
  watch *old = g.table;
  g.cap = old_cap == 0 ? 64 : old_cap * 2;
  g.table = xcalloc(g.cap, sizeof(watch));
  g.used = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].wd > 0)
      insert(old[i].wd, old[i].root, old[i].rel);
  free(old);
}

static void insert(int wd, int root, char *rel) {
  if ((g.used + 1) * 4 >= g.cap * 3)
    grow();
  size_t i = slot_of(wd, g.cap);
  while (g.table[i].wd > 0)
    i = (i + 1) & (g.cap - 1);
  if (g.table[i].wd == 0)
    g.used++;
  g.table[i] = (watch){wd, root, rel};
}

static void forget(watch *w) {
  free(w->rel);
  w->rel = NULL;
  w->wd = -1;
}

static void flush_out(void) {
  size_t off = 0;
  while (off < g.out_len) {
    ssize_t n = write(STDOUT_FILENO, g.out + off, g.out_len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      _exit(0); /* the reader is gone: nobody to report to */
    off += (size_t)n;
  }
  g.out_len = 0;
}

/* Appends one record "<kind><root>:<a><b>\0" (b may be a name joined to a with '/'). */
static void emit(char kind, int root, const char *a, const char *b) {
  char rec[PATH_MAX + 16];
  int n;
  if (b != NULL && b[0] != '\0')
    n = snprintf(rec, sizeof rec, "%c%d:%s%s%s", kind, root, a, a[0] != '\0' ? "/" : "", b);
  else
    n = snprintf(rec, sizeof rec, "%c%d:%s", kind, root, a);
  if (n < 0 || (size_t)n >= sizeof rec)
    return; /* longer than PATH_MAX: no such path can be synced anyway */
  size_t len = (size_t)n + 1;
  if (kind == 'f' && len == g.last_len && memcmp(rec, g.last, len) == 0)
    return;
  memcpy(g.last, rec, len);
  g.last_len = len;
  if (g.out_len + len > sizeof g.out)
    flush_out();
  memcpy(g.out + g.out_len, rec, len);
  g.out_len += len;
}

static const char *errno_name(int e);

/* "E<root>:<ERRNO>:<rel>": a watch that could not be placed */
static void emit_error(int root, int e, const char *rel) {
  char head[32];
  snprintf(head, sizeof head, "%s:", errno_name(e));
  char rec[PATH_MAX + 48];
  int n = snprintf(rec, sizeof rec, "E%d:%s%s", root, head, rel);
  if (n < 0 || (size_t)n >= sizeof rec)
    return;
  size_t len = (size_t)n + 1;
  if (g.out_len + len > sizeof g.out)
    flush_out();
  memcpy(g.out + g.out_len, rec, len);
  g.out_len += len;
}

static const char *errno_name(int e) {
  switch (e) {
  case ENOENT: return "ENOENT";
  case ENOTDIR: return "ENOTDIR";
  case ENOSPC: return "ENOSPC";
  case EEXIST: return "EEXIST";
  case EACCES: return "EACCES";
  case ELOOP: return "ELOOP";
  case EXDEV: return "EXDEV";
  case ENOMEM: return "ENOMEM";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  default: return "EIO";
  }
}

/* Watches directory rel of root (the "+" command). */
static void add_watch(int root, const char *rel) {
  if (root < 0 || root >= g.nroots || g.root_gone[root]) {
    emit_error(root < 0 || root >= g.nroots ? 0 : root, ENOENT, rel);
    return;
  }
  cleanup_close int root_fd = open(g.root_path[root], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    emit_error(root, ENOENT, rel);
    return;
  }
  cleanup_close int fd = -1;
  do
    fd = sys_openat2(root_fd, rel[0] == '\0' ? "." : rel, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  while (fd < 0 && errno == EAGAIN);
  if (fd < 0) {
    emit_error(root, errno == ELOOP ? ENOTDIR : errno, rel);
    return;
  }
  char via[64];
  snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
  int wd = inotify_add_watch(g.ifd, via, WATCH_MASK);
  if (wd < 0) {
    emit_error(root, errno, rel);
    return;
  }
  if (find(wd) != NULL) {
    /* the same directory reached twice (a bind mount inside the tree): keep the first path */
    emit_error(root, EEXIST, rel);
    return;
  }
  insert(wd, root, strdup(rel));
  if (g.root_wd[root] == 0 && rel[0] == '\0')
    g.root_wd[root] = wd;
  emit('A', root, rel, NULL);
}

/* Drops the watches of dir (root, rel) and of every directory below it. */
static void unwatch_tree(int root, const char *rel) {
  size_t len = strlen(rel);
  for (size_t i = 0; i < g.cap; i++) {
    watch *w = &g.table[i];
    if (w->wd <= 0 || w->root != root)
      continue;
    if (strcmp(w->rel, rel) == 0 || (len > 0 && strncmp(w->rel, rel, len) == 0 && w->rel[len] == '/') ||
        len == 0) {
      inotify_rm_watch(g.ifd, w->wd);
      forget(w);
    }
  }
}

static void root_gone(int root) {
  if (g.root_gone[root])
    return;
  g.root_gone[root] = 1;
  unwatch_tree(root, "");
  emit('R', root, "", NULL);
}

static void handle(const struct inotify_event *e) {
  if (e->mask & IN_Q_OVERFLOW) {
    emit('O', 0, "", NULL);
    return;
  }
  watch *w = find(e->wd);
  if (w == NULL)
    return; /* a watch dropped already (moved away): its later events have no true path */
  int root = w->root;
  if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
    if (e->wd == g.root_wd[root])
      root_gone(root);
    /* otherwise the parent's IN_DELETE / IN_MOVED_FROM reports it */
    return;
  }
  if (e->mask & IN_IGNORED) {
    forget(w);
    return;
  }
  if (e->len == 0 || e->name[0] == '\0')
    return; /* an event on the watched directory itself (IN_ATTRIB): reported by its parent */
  const char *name = e->name;
  int dir = (e->mask & IN_ISDIR) != 0;
  if (e->mask & (IN_DELETE | IN_MOVED_FROM)) {
    if (dir) {
      /* the subtree's watches are unwatched now: events still queued for them name old paths */
      char child[PATH_MAX];
      int n = snprintf(child, sizeof child, "%s%s%s", w->rel, w->rel[0] != '\0' ? "/" : "", name);
      if (n > 0 && (size_t)n < sizeof child) {
        emit('x', root, child, NULL);
        unwatch_tree(root, child);
      }
      return;
    }
    emit('x', root, w->rel, name);
    return;
  }
  if (e->mask & (IN_CREATE | IN_MOVED_TO)) {
    emit(dir ? 'd' : 'f', root, w->rel, name);
    return;
  }
  if (e->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB))
    emit(dir ? 'm' : 'f', root, w->rel, name);
}

static void read_events(void) {
  /* aligned for struct inotify_event, large enough for many events per read */
  char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(g.ifd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g.last_len = 0; /* repeats are dropped within one drain only: a later write is news */
      return;         /* EAGAIN: drained */
    }
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *e = (const struct inotify_event *)p;
      handle(e);
      p += sizeof(struct inotify_event) + e->len;
    }
  }
}

/* Commands arrive NUL-terminated; a partial one waits in cmd for the rest. */
static char cmd[CMD_MAX];
static size_t cmd_len;

static void run_command(const char *c) {
  if (c[0] != '+')
    return;
  char *end = NULL;
  long root = strtol(c + 1, &end, 10);
  if (end == NULL || *end != ':')
    return;
  add_watch((int)root, end + 1);
}

/* 0 on EOF (the parent is done) */
static int read_commands(void) {
  char buf[16384];
  ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  if (n < 0)
    return errno == EINTR || errno == EAGAIN;
  if (n == 0)
    return 0;
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == '\0') {
      cmd[cmd_len] = '\0';
      run_command(cmd);
      cmd_len = 0;
    } else if (cmd_len + 1 < sizeof cmd) {
      cmd[cmd_len++] = buf[i];
    }
  }
  return 1;
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc < 2 || argc - 1 > MAX_ROOTS) {
    dprintf(STDERR_FILENO, "usage: berth-notify ROOT... (at most %d)\n", MAX_ROOTS);
    return 2;
  }
  g.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (g.ifd < 0) {
    dprintf(STDERR_FILENO, "berth-notify: inotify_init1: %s\n", strerror(errno));
    return 1;
  }
  g.nroots = argc - 1;
  /* each root as the user named it (a symlinked project path is theirs to choose) */
  for (int i = 0; i < g.nroots; i++)
    g.root_path[i] = argv[i + 1];
  struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = g.ifd, .events = POLLIN}};
  for (;;) {
    flush_out();
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      dprintf(STDERR_FILENO, "berth-notify: poll: %s\n", strerror(errno));
      return 1;
    }
    /* events first: a command's answer must not overtake events that happened before it */
    if (fds[1].revents & POLLIN)
      read_events();
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      if (!read_commands())
        return 0;
    }
  }
}
