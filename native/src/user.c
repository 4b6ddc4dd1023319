#include "user.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

/* Read a whole (small) file; a missing file reads as NULL without error. */
static int slurp(const char *path, char **out, bt_error **err) {
  *out = NULL;
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return bt_error_sys(err, "open %s", path);
  }
  size_t cap = 4096, len = 0;
  cleanup_free char *buf = xmalloc(cap);
  for (;;) {
    if (len + 1 >= cap) {
      if (cap > (4u << 20))
        return bt_error_make(err, EFBIG, "read %s", path);
      cap *= 2;
      buf = xrealloc(buf, cap);
    }
    ssize_t n = read(fd, buf + len, cap - 1 - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return bt_error_sys(err, "read %s", path);
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  *out = take_ptr(buf);
  return 0;
}

/* A non-negative decimal id that fits in 31 bits (runc's valid id range); -1 otherwise. */
static long parse_id(const char *s) {
  if (*s == '\0')
    return -1;
  long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (*s - '0');
    if (v > INT_MAX)
      return -1;
  }
  return v;
}

/* Split line into at most max ':'-separated fields in place; returns the count. */
static size_t split_colon(char *line, char **fields, size_t max) {
  size_t n = 0;
  fields[n++] = line;
  for (char *p = line; *p && n < max; p++) {
    if (*p == ':') {
      *p = '\0';
      fields[n++] = p + 1;
    }
  }
  return n;
}

/* Iterate the lines of a mutable text buffer: each call returns the next line (NUL-terminated,
 * without its newline) and advances *cursor; NULL at the end. Comment and empty lines are
 * skipped. */
static char *next_line(char **cursor) {
  while (*cursor != NULL && **cursor != '\0') {
    char *line = *cursor;
    char *nl = strchr(line, '\n');
    if (nl != NULL) {
      *nl = '\0';
      *cursor = nl + 1;
    } else {
      *cursor = NULL;
    }
    while (*line == ' ' || *line == '\t')
      line++;
    if (*line != '\0' && *line != '#')
      return line;
  }
  return NULL;
}

int bt_resolve_user(const char *spec, const char *passwd_path, const char *group_path,
                    bt_user *out, bt_error **err) {
  memset(out, 0, sizeof *out);
  snprintf(out->home, sizeof out->home, "/");

  cleanup_free char *spec_copy = xstrdup(spec ? spec : "");
  char *user_arg = spec_copy;
  char *group_arg = strchr(spec_copy, ':');
  if (group_arg != NULL)
    *group_arg++ = '\0';
  else
    group_arg = (char *)"";

  long uid_arg = parse_id(user_arg);
  long gid_arg = parse_id(group_arg);
  if (*user_arg != '\0' && uid_arg < 0 && strspn(user_arg, "0123456789") == strlen(user_arg))
    return bt_error_make(err, ERANGE, "user %s", user_arg);

  /* --- the user: first matching passwd entry wins --- */
  cleanup_free char *passwd = NULL;
  if (slurp(passwd_path, &passwd, err) < 0)
    return -1;
  char matched_name[256] = "";
  bool matched = false;
  char *cursor = passwd;
  for (char *line; (line = next_line(&cursor)) != NULL;) {
    char *f[7] = {0};
    if (split_colon(line, f, 7) < 7)
      continue;
    long uid = parse_id(f[2]);
    long gid = parse_id(f[3]);
    if (uid < 0 || gid < 0)
      continue;
    bool hit;
    if (*user_arg == '\0')
      hit = uid == 0; /* default: root's entry, if any */
    else if (uid_arg >= 0)
      hit = uid == uid_arg; /* a numeric user is always a uid */
    else
      hit = strcmp(f[0], user_arg) == 0;
    if (hit) {
      matched = true;
      snprintf(matched_name, sizeof matched_name, "%s", f[0]);
      out->uid = (uid_t)uid;
      out->gid = (gid_t)gid;
      snprintf(out->home, sizeof out->home, "%s", *f[5] ? f[5] : "/");
      break;
    }
  }
  if (!matched && *user_arg != '\0') {
    if (uid_arg < 0)
      return bt_error_make(err, 0, "unable to find user %s: no matching entries in passwd file",
                           user_arg);
    out->uid = (uid_t)uid_arg; /* numeric ids without an entry are allowed */
  }

  /* --- the groups --- */
  if (*group_arg == '\0' && !matched)
    return 0;
  cleanup_free char *group = NULL;
  if (slurp(group_path, &group, err) < 0)
    return -1;
  bool group_found = false;
  cursor = group;
  for (char *line; (line = next_line(&cursor)) != NULL;) {
    char *f[4] = {0};
    if (split_colon(line, f, 4) < 3)
      continue;
    long gid = parse_id(f[2]);
    if (gid < 0)
      continue;
    if (*group_arg != '\0') {
      bool hit = gid_arg >= 0 ? gid == gid_arg : strcmp(f[0], group_arg) == 0;
      if (hit) {
        out->gid = (gid_t)gid;
        group_found = true;
        break; /* first match wins */
      }
      continue;
    }
    /* implicit form: every group listing the matched user name as a member */
    if (f[3] == NULL)
      continue;
    for (char *member = strtok(f[3], ","); member != NULL; member = strtok(NULL, ",")) {
      while (*member == ' ')
        member++;
      if (strcmp(member, matched_name) == 0) {
        if (out->group_count < BT_MAX_GROUPS)
          out->groups[out->group_count++] = (gid_t)gid;
        break;
      }
    }
  }
  if (*group_arg != '\0' && !group_found) {
    if (gid_arg < 0)
      return bt_error_make(err, 0, "unable to find group %s: no matching entries in group file",
                           group_arg);
    out->gid = (gid_t)gid_arg;
  }
  return 0;
}

static void add_gid(bt_user *u, gid_t gid) {
  for (size_t i = 0; i < u->group_count; i++)
    if (u->groups[i] == gid)
      return;
  if (u->group_count < BT_MAX_GROUPS)
    u->groups[u->group_count++] = gid;
}

int bt_add_groups(bt_user *out, char *const *groups, size_t count, const char *group_path,
                  bt_error **err) {
  if (count == 0)
    return 0;
  cleanup_free char *text = NULL;
  if (slurp(group_path, &text, err) < 0)
    return -1;
  for (size_t i = 0; i < count; i++) {
    long gid = parse_id(groups[i]);
    if (gid >= 0) {
      add_gid(out, (gid_t)gid);
      continue;
    }
    bool found = false;
    cleanup_free char *copy = xstrdup(text);
    char *cursor = copy;
    for (char *line; !found && (line = next_line(&cursor)) != NULL;) {
      char *f[4] = {0};
      if (split_colon(line, f, 4) < 3 || strcmp(f[0], groups[i]) != 0)
        continue;
      long g = parse_id(f[2]);
      if (g >= 0) {
        add_gid(out, (gid_t)g);
        found = true;
      }
    }
    if (!found)
      return bt_error_make(err, 0, "unable to find group %s: no matching entries in group file", groups[i]);
  }
  return 0;
}
