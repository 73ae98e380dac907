/* auth-oidc: the verdict on a login's token (oidc_judge.c). */
#ifndef WG_OIDC_JUDGE_H
#define WG_OIDC_JUDGE_H

#include <stdbool.h>

#include "oidc_plugin.h"

/* Fails the login: user_message for the user, why (prefixed
 * "auth-oidc: ") for the log. */
void oidc_refuse(struct oidc_plugin *p, struct wg_auth *a, const char *user_message, const char *why);
/* Judges the login's token (its id_token, else the request's bearer
 * token) with the keys at hand. `fetched`: the keys were just fetched for
 * this login, so a missing key is final. Returns true when answered, false
 * when the login waits for a fetch. */
bool oidc_judge(struct oidc_plugin *p, struct login *l, bool fetched);

#endif
