/* auth-oidc: the browser login (oidc_browser.c). */
#ifndef WG_OIDC_BROWSER_H
#define WG_OIDC_BROWSER_H

#include <stddef.h>
#include <wolfguard/plugin.h>

#include "oidc_plugin.h"

int oidc_browser_config(struct oidc_plugin *p, const struct wg_config *cfg, char *err, size_t errlen);
void oidc_browser_free(struct oidc_plugin *p);
/* start() of a login without a bearer token: the single sign-on form, or
 * a wait for the provider's endpoints. */
void oidc_browser_start(struct oidc_plugin *p, struct login *l);
/* The fetch ended: a login that waited for the endpoints gets its form. */
void oidc_browser_prompt(struct oidc_plugin *p, struct login *l);
/* cont(): the client's answer to the form (its sso-token). */
void oidc_browser_answer(struct oidc_plugin *p, struct login *l);
void oidc_browser_http(void *state, struct wg_http_call *call, const char *path, const char *query);
/* The login's end: forgets its secrets. */
void oidc_browser_forget(struct login *l);

#endif
