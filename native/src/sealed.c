#include "sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscalls.h"

extern char **environ;

/* Write, shrink, grow, and the seals themselves: nothing can change the copy once made. */
#define BT_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int bt_sealed_copy(int src, const char *name, int *out, bt_error **err) {
  struct stat st;
  if (fstat(src, &st) < 0)
    return bt_error_sys(err, "stat %s", name);
  cleanup_close int copy = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0)
    return bt_error_sys(err, "memfd_create %s", name);
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = sendfile(copy, src, NULL, (size_t)(st.st_size - done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return bt_error_sys(err, "copy %s into a memfd", name);
    done += n;
  }
  if (fcntl(copy, F_ADD_SEALS, BT_SEALS) < 0)
    return bt_error_sys(err, "seal the memfd copy of %s", name);
  *out = take_fd(&copy);
  return 0;
}

int bt_sealed_copy_of_path(const char *path, const char *name, int *out, bt_error **err) {
  cleanup_close int src = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (src < 0)
    return bt_error_sys(err, "open %s", path);
  struct stat st;
  if (fstat(src, &st) < 0)
    return bt_error_sys(err, "stat %s", path);
  if (!S_ISREG(st.st_mode))
    return bt_error_make(err, EINVAL, "%s is not a regular file", path);
  return bt_sealed_copy(src, name, out, err);
}

int bt_run_from_sealed_copy(char **argv, bt_error **err) {
  cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return bt_error_sys(err, "open /proc/self/exe");
  /* F_GET_SEALS fails (EINVAL) on a file that cannot be sealed: the host's binary. */
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & BT_SEALS) == BT_SEALS)
    return 0;
  cleanup_close int copy = -1;
  if (bt_sealed_copy(self, "berth-shim", &copy, err) < 0)
    return -1;
  /* execveat(AT_EMPTY_PATH) of a close-on-exec descriptor: fine for an ELF binary (only a
   * script would need the descriptor to stay open for its interpreter). */
  fexecve(copy, argv, environ);
  return bt_error_sys(err, "execute the sealed copy of the shim");
}
