/* The server's "vhosts" beyond what the option table checks: names that a
 * TLS client can send (lower case, DNS letters), certificate and key files
 * that can be read, "vhost-fallback" spelled right, and every plugin file's
 * "vhost" naming a declared vhost. Shared by --check-config, the start and
 * every reload (docs/config.md, "Several server names on one port"). */
#ifndef WG_VHOST_CHECK_H
#define WG_VHOST_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct wg_conf;
struct wg_err;

/* The longest server name (RFC 1035: 253 characters of text). */
#define WG_VHOST_NAME_MAX 253

/* name as a client sends it in SNI: 1..253 of [a-z0-9-.], no empty label. */
bool wg_vhost_name_ok(const char *name);
/* Adds one line per problem to err. */
void wg_check_vhosts(const struct wg_conf *conf, struct wg_err *err);

#endif
