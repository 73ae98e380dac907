/* Logging for the plugin's files: through the host once init() set it,
 * to stderr before (and in unit tests, which compile these files alone). */
#ifndef WG_DTLS_LOG_H
#define WG_DTLS_LOG_H

#include <wolfguard/plugin.h>

void dtls_log_set_host(const struct wg_host *host);
void dtls_log(int level, const char *fmt, ...) WG_PRINTF(2, 3);

#endif
