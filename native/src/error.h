/* The single error convention of berth's C code.
 *
 * A function that can fail returns int (0 on success, -1 on failure) and takes a last parameter
 * `bt_error **err`. On failure it stores a heap-allocated bt_error in *err: the errno that caused
 * it (0 when there is none, e.g. a parse error) and a message naming what was being done.
 * Callers on the way up add context with bt_error_wrap ("mount proc: " + inner message); the
 * outermost caller prints it with bt_error_report_release (or formats it with bt_error_format when
 * the message goes elsewhere, as a record) and releases it. Nothing else reports errors: no
 * perror, no exit() deep inside a facility. */
#ifndef BT_ERROR_H
#define BT_ERROR_H

#include <stddef.h>

typedef struct bt_error {
  int errnum;    /* errno of the failing call, 0 when the failure is not a system error */
  char *message; /* what was being done, with the context added on the way up */
} bt_error;

/* Store a new error in *err (errnum may be 0) and return -1, so that `return bt_error_make(...)`
 * reads as the failure path. If *err already holds an error, it is replaced. */
int bt_error_make(bt_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same as bt_error_make with errnum = errno (read before anything else can clobber it). */
int bt_error_sys(bt_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the message of *err with "<context>: " and return -1. */
int bt_error_wrap(bt_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "<message>: <strerror(errnum)>", or just the message when errnum is 0. Truncates to size. */
void bt_error_format(const bt_error *err, char *buf, size_t size);

void bt_error_release(bt_error **err);

/* The one way the shim reports, in the style of crun's libcrun_error_write_warning_and_release:
 * bt_report writes "berth-shim: <text>" as one line to stderr; bt_error_report_release writes
 * *err the same way (message and strerror) and releases it. Nothing else prints diagnostics. */
void bt_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bt_error_report_release(bt_error **err);

#endif
