#ifndef WG_CHECK_CONFIG_H
#define WG_CHECK_CONFIG_H
#include <stdio.h>
/* `wolfguard --check-config DIR`: parses conf.d, validates the server section
 * and every plugin's options (opening each plugin to learn its options and
 * check its ABI, without calling init). Prints every error to out, or a
 * summary of what would be loaded. Returns 0 if valid, 1 otherwise. */
int wg_check_config(const char *dir, FILE *out);
#endif
