/* With several worker processes the master answers the control socket by
 * asking every worker and merging their answers into the one answer a
 * single-process server would give (sessions listed together, counters
 * summed, bans combined). Pure: no I/O, unit-tested. */
#ifndef WG_CONTROL_MERGE_H
#define WG_CONTROL_MERGE_H

#include <jansson.h>

/* answers[i] is worker i's reply (a JSON object with "ok"). Returns a new
 * reference: the merged reply. */
json_t *wg_control_merge(int cmd, json_t *const *answers, unsigned n);

#endif
