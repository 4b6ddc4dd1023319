#include "hold.h"

#include <errno.h>
#include <unistd.h>

static int go_fd = -1;
static int ready_fd = -1;

void bt_hold_configure(int go, int ready) {
  go_fd = go;
  ready_fd = ready;
}

bool bt_hold_active(void) { return go_fd >= 0; }

int bt_hold_wait_go(bt_error **err) {
  if (go_fd < 0)
    return 0;
  int fd = go_fd;
  go_fd = -1;
  if (write(ready_fd, "R", 1) != 1) {
    close(fd);
    return bt_error_sys(err, "report the held start ready");
  }
  char go = 0;
  ssize_t n;
  while ((n = read(fd, &go, 1)) < 0 && errno == EINTR)
    ;
  close(fd);
  if (n == 1 && go == 'g')
    return 0;
  /* EOF (or anything but "g"): the engine let go of this start. */
  return bt_error_make(err, ECANCELED, "the held start was cancelled");
}
