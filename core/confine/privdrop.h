/* Dropping root once the server is set up: everything that needs it (the
 * TUN device and its addresses, port 443, the control socket, loading
 * plugins and keys) is done by then, and what faces the network should not
 * hold a privilege it no longer needs. */
#ifndef WG_PRIVDROP_H
#define WG_PRIVDROP_H

#include <stddef.h>

/* Switches every thread of the process to user/group (their supplementary
 * groups: the user's own, from /etc/group), keeps no capability, and sets
 * no_new_privs so no later exec can gain any. A no-op (returns 0) when not
 * running as root. Returns 0, or -1 with the reason in err. */
int wg_privdrop(const char *user, const char *group, char *err, size_t errlen);

#endif
