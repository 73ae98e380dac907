/* Requests on the control socket: one JSON object per connection, e.g.
 *   {"cmd": "list"}   {"cmd": "show", "user": "alice"}   {"cmd": "disconnect", "id": "12"}
 *   {"cmd": "ban", "addr": "198.51.100.7", "seconds": 3600}   {"cmd": "unban", "addr": "..."}
 *   {"cmd": "bans"}   {"cmd": "reload"}
 * Parsing is separate from acting so it can be fuzzed on its own. */
#ifndef WG_CONTROL_PROTO_H
#define WG_CONTROL_PROTO_H

#include <stddef.h>

#define WG_CONTROL_MAX_REQUEST 4096

enum wg_control_cmd {
	WG_CTL_STATUS = 1,
	WG_CTL_LIST,
	WG_CTL_SHOW,
	WG_CTL_DISCONNECT,
	WG_CTL_RELOAD,
	WG_CTL_BAN,
	WG_CTL_UNBAN,
	WG_CTL_BANS,
	WG_CTL_EVENTS, /* the connection stays open: JSON lines (events.h) */
};

#define WG_CONTROL_MAX_BAN_S (86400 * 365)

struct wg_control_req {
	int cmd;        /* enum wg_control_cmd */
	char user[128]; /* selector for show/disconnect, or "" */
	char id[32];    /* session id selector, or "" */
	char addr[64];  /* ban/unban: a client address (not checked here), or "" */
	long long seconds; /* ban: 1..WG_CONTROL_MAX_BAN_S; 0 when absent */
};

/* Returns 0, or -1 with a reason (for the error reply) in err. */
int wg_control_parse(const char *buf, size_t len, struct wg_control_req *out, char *err, size_t errlen);

#endif
