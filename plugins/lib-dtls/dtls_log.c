#include "dtls_log.h"

#include <stdio.h>

static const struct wg_host *log_host;

void dtls_log_set_host(const struct wg_host *host)
{
	log_host = host;
}

void dtls_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_host) {
		log_host->vlog(NULL, level, fmt, ap);
	} else if (level <= WG_LOG_WARN) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
