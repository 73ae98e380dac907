#ifndef WG_SERVER_OPTIONS_H
#define WG_SERVER_OPTIONS_H
#include <wolfguard/plugin.h>
/* The keys of conf.d's "server" section, validated like a plugin's options. */
extern const struct wg_option wg_server_options[];
/* What one entry of the server's "groups" and "users" objects may set
 * (per-group and per-user settings, keyed by group or user name). */
extern const struct wg_option wg_account_options[];
/* What one entry of the server's "vhosts" (keyed by TLS server name) sets. */
extern const struct wg_option wg_vhost_options[];
#endif
