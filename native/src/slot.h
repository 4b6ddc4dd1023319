/* A warm slot (`berth-shim slot <root>`, docs/slots.md): a shim started before its container is
 * known. It has done what every shim does first -- closed what it inherited, re-executed itself
 * from a sealed memfd -- and waits on its stdin, a unix stream socket the engine holds, for one
 * claim:
 *
 *   claim TAB <attached|detached> TAB <stdin> TAB <stdout> TAB <stderr> TAB <launch file> LF
 *
 * each stdio field `keep` (leave the descriptor the slot was started with: the control socket
 * for stdin, the engine's pipes for stdout and stderr), `null` (/dev/null) or `fd` (the next
 * descriptor sent with the claim, SCM_RIGHTS on its first byte). The slot puts those in place and
 * becomes `berth-shim run [--detach] <launch file>` by executing its sealed image again: from
 * there on it is exactly a cold shim (same argv, which is how the engine recognises a container's
 * supervisor; same pid, so the engine's wait for it holds).
 *
 * EOF before a whole claim (the pool was emptied, or the engine died and the kernel closed its
 * end) is the normal end of an unused slot: it exits 0 and leaves nothing behind. */
#ifndef BT_SLOT_H
#define BT_SLOT_H

#include "error.h"

/* Waits for the claim on descriptor 0 and executes `self` (argv[0] of this process, the path
 * /proc/self/exe names) as the claimed command. Returns 0 on EOF without a claim; -1 with *err on
 * a malformed claim or a failed exec. Never returns after a successful exec. */
int bt_slot_wait_and_become(const char *self, bt_error **err);

#endif
