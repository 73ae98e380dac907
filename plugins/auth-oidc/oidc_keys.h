/* auth-oidc: fetching the provider's keys and endpoints (oidc_keys.c). */
#ifndef WG_OIDC_KEYS_H
#define WG_OIDC_KEYS_H

#include "oidc_plugin.h"

/* Starts a fetch of the provider's documents unless one is in flight;
 * when it ends (or cannot start), every login marked waiting goes to
 * p->fetch_ended. */
void oidc_fetch_start(struct oidc_plugin *p);

#endif
