/* What transport plugins hand up from their lanes (the host table points
 * here): packets go to the data path, a DISCONNECT ends the session, and a
 * burst of them is batched as a burst of CSTP frames is. Apart from lane.c,
 * which the data path sends through, so that calls run one way. */
#include <stdio.h>
#include <time.h>

#include "session/session.h"
#include "server.h"
#include "tunnel/cstp_frame.h"
#include "tunnel/datapath.h"
#include "tunnel/lane.h"
#include "util/current.h"

void wg_host_rx_begin(void)
{
	struct wg_server *srv = wg_server_current();

	if (srv)
		wg_datapath_rx_begin(srv);
}

void wg_host_rx_end(void)
{
	struct wg_server *srv = wg_server_current();

	if (srv)
		wg_datapath_rx_end(srv);
}

void wg_host_lane_input(struct wg_lane *l, uint32_t type, const uint8_t *payload, size_t len)
{
	struct wg_session *s = wg_lane_owner(l);

	if (!s || s->ending)
		return;
	if (type == WG_CSTP_DATA) {
		s->last_rx = time(NULL);
		wg_datapath_from_client(s, payload, len);
	} else if (type == WG_CSTP_DISCONNECT) {
		char why[64];
		snprintf(why, sizeof(why), "client disconnected (%s)", wg_lane_name(l));
		wg_session_end(s, why);
	}
}
