/* The login conversation: the XML forms of the AnyConnect protocol on one
 * side, the auth plugin's prompt/succeed/fail answers on the other. A
 * conversation is named by a random context cookie (webvpncontext), so its
 * steps may arrive on the same or on a new TLS connection. */
#ifndef WG_AUTH_H
#define WG_AUTH_H

struct wg_conn;
struct wg_http_request;
struct wg_server;
struct wg_host;
struct wg_auth;
struct wg_auth_field;

/* Handles a login request (GET/POST to / or /auth) on c. The answer is sent
 * on c now or later (when the plugin answers). */
void wg_auth_handle(struct wg_conn *c, const struct wg_http_request *req);
/* req carries the context cookie of a login in progress (camouflage.c). */
_Bool wg_auth_context_known(struct wg_server *srv, const struct wg_http_request *req);
/* c is closing: forget it in any conversation that waits on it. */
void wg_auth_conn_gone(struct wg_conn *c);
/* Drops every conversation (server stop). */
void wg_auth_end_all(struct wg_server *srv);

/* Host functions handed to auth plugins (see struct wg_host). */
const char *wg_auth_host_field(const struct wg_auth *a, const char *name);
const char *wg_auth_host_client_addr(const struct wg_auth *a);
const char *wg_auth_host_username(const struct wg_auth *a);
void wg_auth_host_prompt(struct wg_auth *a, const char *message, const struct wg_auth_field *fields);
void wg_auth_host_succeed(struct wg_auth *a, const char *username, const char *const *groups);
void wg_auth_host_fail(struct wg_auth *a, const char *user_message, const char *log_reason);
const char *wg_auth_host_cert(const struct wg_auth *a, const char *what);
void wg_auth_host_set_attr(struct wg_auth *a, const char *key, const char *value);
const char *wg_auth_host_http_credentials(const struct wg_auth *a, const char *scheme);
void wg_auth_host_http_challenge(struct wg_auth *a, const char *challenge, const char *message);
const char *wg_auth_host_http_header(const struct wg_auth *a, const char *name);
struct wg_auth_sso;
void wg_auth_host_prompt_sso(struct wg_auth *a, const char *message, const struct wg_auth_sso *sso);
void *wg_auth_host_state_get(const struct wg_auth *a, const void *self);
int wg_auth_host_state_set(struct wg_auth *a, const void *self, void *value);
/* The value the login holds for an attribute key (the last one set), or
 * NULL: what the session would be created with. */
const char *wg_auth_attr(const struct wg_auth *a, const char *key);

#endif
