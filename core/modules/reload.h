/* Live reload (SIGHUP, `wolfguardctl reload`): conf.d is read and checked
 * as at start (the same checks as --check-config, then every plugin's
 * init()); a configuration that fails any of them is rejected and the
 * running one stays. One that passes becomes a new generation (gen.h): new
 * logins use it, existing sessions keep theirs. */
#ifndef WG_RELOAD_H
#define WG_RELOAD_H

#include <stddef.h>

struct wg_server;

/* Returns 0 with a summary (and warnings, one per line) in msg, or -1 with
 * every reason the new configuration was rejected. Logs the outcome. */
int wg_reload(struct wg_server *srv, char *msg, size_t msglen);

#endif
