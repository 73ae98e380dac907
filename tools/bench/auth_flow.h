/* The AnyConnect XML login, as openconnect speaks it: the init POST, then
 * one auth-reply per form the server sends (username, password, group
 * select, in one form or several) until type="complete". Builds requests
 * and reads answers; the connection code does the I/O. */
#ifndef WGB_AUTH_FLOW_H
#define WGB_AUTH_FLOW_H

#include <stddef.h>

struct wgb_login {
	const char *host;     /* Host header */
	const char *user;
	const char *password;
	const char *group;    /* group to pick when offered a group_list; NULL: the first offered */
};

/* Progress of one login, kept per connection. */
struct wgb_login_state {
	unsigned steps;      /* forms answered so far */
	int password_sent;   /* a form asked for the password again after we sent it: rejected */
};

enum wgb_auth_next {
	WGB_AUTH_COMPLETE, /* type="complete": the cookie is in the headers */
	WGB_AUTH_REPLY,    /* req holds the next request to send */
	WGB_AUTH_FAIL,     /* err says why */
};

/* POST / with the type="init" document; returns its length, -1 if cap is too small. */
int wgb_auth_init_request(const struct wgb_login *l, char *req, size_t cap);

/* Reads the XML body of an answer and, for a form, builds the auth-reply
 * (with Cookie: webvpncontext= when context is non-empty). */
enum wgb_auth_next wgb_auth_next(const struct wgb_login *l, struct wgb_login_state *ls, const char *body, size_t blen,
				 const char *context, char *req, size_t cap, int *req_len, char *err, size_t errlen);

#endif
