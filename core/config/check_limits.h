/* The values of the per-session limits that the option table cannot check
 * (docs/config.md, "Per-session limits"): data-quota-action, rekey-method,
 * restrict-user-to-ports (the server's and every users/groups entry's),
 * iroute networks (users only, one worker). Shared by --check-config, the
 * start and every reload, so a typo is found before a session meets it. */
#ifndef WG_CHECK_LIMITS_H
#define WG_CHECK_LIMITS_H

struct wg_config;
struct wg_err;

/* Adds one line per problem to err. */
void wg_check_limits(const struct wg_config *c, struct wg_err *err);

#endif
