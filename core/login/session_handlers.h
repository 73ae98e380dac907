/* The handlers sessions call up through (session.h): the tunnel renders
 * and says goodbye, the lanes close, the policies hear of the end. */
#ifndef WG_SESSION_HANDLERS_H
#define WG_SESSION_HANDLERS_H

struct wg_session_handlers;

extern const struct wg_session_handlers wg_login_session_handlers;

#endif
