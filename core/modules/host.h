/* The struct wg_host function table handed to every plugin. */
#ifndef WG_HOST_H
#define WG_HOST_H
#include <wolfguard/plugin.h>
const struct wg_host *wg_host_table(void);
#endif
