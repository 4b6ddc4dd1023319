/* berth-shim: the per-container runtime process. See native/PROTOCOL.md.
 *
 *   berth-shim run [--detach [--hold-until=SEC.NSEC]] <launch-file>
 *   berth-shim exec <launch-file>
 *   berth-shim slot <root>          (a warm slot: see slot.h)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "hold.h"
#include "protocol.h"
#include "sealed.h"
#include "slot.h"
#include "supervise.h"

#define EXIT_USAGE 125

static int usage(void) {
  static const char text[] = "usage: berth-shim run [--detach [--hold-until=SEC.NSEC]] <launch-file>\n"
                             "       berth-shim exec <launch-file>\n"
                             "       berth-shim slot <root>\n";
  (void)!write(2, text, sizeof text - 1);
  return EXIT_USAGE;
}

static int load(const char *path, bool exec, bt_launch *launch) {
  bt_error *err = NULL;
  int rc = bt_launch_read(path, launch, &err);
  if (rc == 0)
    rc = exec ? bt_launch_validate_exec(launch, &err) : bt_launch_validate_run(launch, &err);
  if (rc < 0) {
    /* The bundle is only known if parsing got that far; record the failure there too. */
    if (launch->bundle != NULL) {
      char msg[1024], line[1100];
      bt_error_format(err, msg, sizeof msg);
      snprintf(line, sizeof line, "berth-shim: %s", msg);
      bt_error *werr = NULL;
      if (bt_write_error(launch->bundle, line, &werr) < 0)
        bt_error_release(&werr);
    }
    bt_error_report_release(&err);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  /* Nothing the caller left open may reach a container: a descriptor inherited from whoever
   * started berth (`exec 200</`) would otherwise be open in PID 1 and in every exec'd process,
   * a way out to the host's filesystem (`ls /proc/self/fd/200/..`). Everything the shim needs
   * later it opens itself, close-on-exec. */
  if (close_range(3, ~0U, 0) < 0) {
    for (int fd = 3; fd < 1024; fd++) /* kernels before 5.9 */
      close(fd);
  }
  if (argc < 3)
    return usage();
  /* Before anything else touches a container: see sealed.h. */
  bt_error *err = NULL;
  if (bt_run_from_sealed_copy(argv, &err) < 0) {
    bt_error_report_release(&err);
    return EXIT_USAGE;
  }
  bt_launch launch;
  if (strcmp(argv[1], "run") == 0) {
    bool detach = false, hold = false;
    struct timespec hold_until;
    int i = 2;
    if (strcmp(argv[i], "--detach") == 0 || strcmp(argv[i], "-d") == 0) {
      detach = true;
      i++;
      if (i < argc && strncmp(argv[i], "--hold-until=", 13) == 0) {
        if (bt_hold_parse_deadline(argv[i] + 13, &hold_until, &err) < 0) {
          bt_error_report_release(&err);
          return EXIT_USAGE;
        }
        hold = true;
        i++;
      }
    }
    if (i != argc - 1)
      return usage();
    if (load(argv[i], false, &launch) < 0)
      return EXIT_USAGE;
    int code = bt_run(&launch, detach, hold ? &hold_until : NULL);
    bt_launch_free(&launch);
    return code;
  }
  if (strcmp(argv[1], "slot") == 0) {
    /* <root> only names whose slot this is (ps, leak checks); nothing is read from it */
    if (argc != 3)
      return usage();
    if (bt_slot_wait_and_become(argv[0], &err) < 0) {
      bt_error_report_release(&err);
      return EXIT_USAGE;
    }
    return 0;
  }
  if (strcmp(argv[1], "exec") == 0) {
    if (argc != 3)
      return usage();
    if (load(argv[2], true, &launch) < 0)
      return EXIT_USAGE;
    int code = bt_exec(&launch);
    bt_launch_free(&launch);
    return code;
  }
  return usage();
}
