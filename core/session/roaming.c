/* The "allow-roaming" rule for CONNECT with a session cookie. */
#include "session/roaming.h"

#include <string.h>

#include "config/config.h"
#include "server.h"

bool wg_roaming_allowed(const struct wg_server *srv, const char *session_addr, const char *peer_addr)
{
	if (wg_config_bool(srv->scfg, "allow-roaming"))
		return true;
	/* Both are inet_ntop() text of the address alone (conn.c), so equal
	 * addresses give equal strings. */
	return session_addr[0] && strcmp(session_addr, peer_addr) == 0;
}
