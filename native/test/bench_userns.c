/* What userns_mode: remap and the sealed berth-init cost in the shim, step by step, with the
 * shim's own functions (not a test: it asserts nothing). Interleaved rounds, medians.
 *
 *   make -C native build/test/bench_userns && sudo native/build/test/bench_userns [rounds] [layers]
 *
 * Needs root and Linux 6.13+. Works in a temporary directory under /tmp (on the filesystem of
 * the image store there: ext4 on the reference machine) and removes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rootfs.h"
#include "sealed.h"
#include "userns.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

static int fail(bt_error **err) {
  bt_error_report_release(err);
  return 1;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 100;
  int layers = argc > 2 ? atoi(argv[2]) : 3;
  if (rounds < 1 || rounds > 10000 || layers < 1 || layers > 100) {
    fprintf(stderr, "usage: bench_userns [rounds 1..10000] [layers 1..100]\n");
    return 2;
  }
  char dir[] = "/tmp/berth-bench-userns-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  char path[4096], options[8192] = "lowerdir=";
  for (int i = 0; i < layers; i++) {
    snprintf(path, sizeof path, "%s/l%d", dir, i);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/l%d/file%d", dir, i, i);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    size_t used = strlen(options);
    snprintf(options + used, sizeof options - used, "%sl%d", i ? ":" : "", i);
  }
  size_t used = strlen(options);
  snprintf(options + used, sizeof options - used, ",upperdir=%s/u,workdir=%s/w", dir, dir);
  char mountpoint[4096];
  snprintf(mountpoint, sizeof mountpoint, "%s/m", dir);
  snprintf(path, sizeof path, "%s/u", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/w", dir);
  mkdir(path, 0755);
  mkdir(mountpoint, 0755);
  const char *init = "native/build/berth-init";
  if (access(init, R_OK) != 0)
    init = "build/berth-init";

  double *plain = calloc((size_t)rounds, sizeof(double)), *ns = calloc((size_t)rounds, sizeof(double));
  double *idmapped = calloc((size_t)rounds, sizeof(double)), *sealed = calloc((size_t)rounds, sizeof(double));
  bt_idmap m = {.uid = 2000000000, .gid = 2000000000, .count = 65536};
  int rc = 0;
  for (int i = 0; i < rounds && rc == 0; i++) {
    bt_error *err = NULL;
    double t0 = now();
    if (bt_overlay_mount(mountpoint, options, dir, &err) < 0)
      return fail(&err);
    plain[i] = now() - t0;
    umount2(mountpoint, MNT_DETACH);

    int fd = -1;
    pid_t helper = -1;
    t0 = now();
    if (bt_userns_create(&m, &fd, &helper, &err) < 0)
      return fail(&err);
    double t1 = now();
    ns[i] = t1 - t0;
    if (bt_overlay_mount_idmapped(mountpoint, options, dir, fd, &m, &err) < 0)
      return fail(&err);
    idmapped[i] = now() - t1;
    umount2(mountpoint, MNT_DETACH);
    close(fd);
    bt_userns_reap(&helper);

    int copy = -1;
    t0 = now();
    if (bt_sealed_copy_of_path(init, "berth-init", &copy, &err) < 0)
      return fail(&err);
    sealed[i] = now() - t0;
    close(copy);
  }
  printf("%d rounds, %d layers\n", rounds, layers);
  printf("  overlay mount, plain                          median %8.3f ms\n", median(plain, rounds));
  printf("  user namespace (helper, maps, descriptor)     median %8.3f ms\n", median(ns, rounds));
  printf("  overlay mount, idmapped layers by descriptor  median %8.3f ms\n", median(idmapped, rounds));
  printf("  sealed memfd copy of %s   median %8.3f ms\n", init, median(sealed, rounds));
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : 1;
}
