#include "util/current.h"

#include <stddef.h>

/* Per thread: unit tests run several servers' code in one process. */
static _Thread_local struct wg_server *current;

struct wg_server *wg_server_current(void)
{
	return current;
}

void wg_server_set_current(struct wg_server *srv)
{
	current = srv;
}
