/* The settings of the server section that a worker keeps in struct
 * wg_server and that a reload may change: read at start and after every
 * accepted reload. */
#ifndef WG_SETTINGS_H
#define WG_SETTINGS_H

#include <stddef.h>

struct wg_server;

/* Re-reads the settings of srv->scfg. Returns 0, or -1 with a reason in why. */
int wg_server_apply_settings(struct wg_server *srv, char *why, size_t whylen);

#endif
