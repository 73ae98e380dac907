/* The AnyConnect XML login, as openconnect speaks it: the init POST, then
 * one auth-reply per form the server sends (username, password, group
 * select, in one form or several) until type="complete". Builds requests
 * and reads answers; the connection code does the I/O. */
#ifndef WGP_AUTH_FLOW_H
#define WGP_AUTH_FLOW_H

#include <stddef.h>

/* What both clients call themselves: servers key behaviour on it. */
#define WGP_USER_AGENT "Open AnyConnect VPN Agent v9.01-3"

struct wgp_login {
	const char *host;     /* Host header */
	const char *user;
	const char *password; /* NULL: ask_password is called when a form wants one */
	const char *group;    /* group to pick when offered a group_list; NULL: the first offered */
	/* The password for a form's field labelled label (wolfguard-client's
	 * prompt); NULL refuses the login. Unused when password is set. */
	const char *(*ask_password)(void *arg, const char *label);
	void *ask_arg;
};

/* Progress of one login, kept per connection. */
struct wgp_login_state {
	unsigned steps;      /* forms answered so far */
	int password_sent;   /* a form asked for the password again after we sent it: rejected */
};

enum wgp_auth_next {
	WGP_AUTH_COMPLETE, /* type="complete": the cookie is in the headers */
	WGP_AUTH_REPLY,    /* req holds the next request to send */
	WGP_AUTH_FAIL,     /* err says why */
};

/* POST / with the type="init" document; returns its length, -1 if cap is too small. */
int wgp_auth_init_request(const struct wgp_login *l, char *req, size_t cap);

/* Reads the XML body of an answer and, for a form, builds the auth-reply
 * (with Cookie: webvpncontext= when context is non-empty). */
enum wgp_auth_next wgp_auth_next(const struct wgp_login *l, struct wgp_login_state *ls, const char *body, size_t blen,
				 const char *context, char *req, size_t cap, int *req_len, char *err, size_t errlen);

#endif
