/* The build tree's plugin directory, for a server run from its build tree. */
#include "config/build_tree.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int wg_build_tree_plugin_dir(const char *exe, char *out, size_t outlen)
{
	char dir[4096], marker[4200], line[4096];
	const char *slash = strrchr(exe, '/');
	struct stat st;
	int n;

	if (!slash || (size_t)(slash - exe) >= sizeof(dir))
		return -1;
	memcpy(dir, exe, (size_t)(slash - exe));
	dir[slash - exe] = '\0';
	if (snprintf(marker, sizeof(marker), "%s/%s", dir, WG_BUILD_TREE_MARKER) >= (int)sizeof(marker))
		return -1;
	FILE *f = fopen(marker, "re");
	if (!f)
		return -1;
	char *got = fgets(line, sizeof(line), f);
	fclose(f);
	if (!got)
		return -1;
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0])
		return -1;
	if (line[0] == '/')
		n = snprintf(out, outlen, "%s", line);
	else
		n = snprintf(out, outlen, "%s/%s", dir, line);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	/* A marker naming a directory that is not there (a moved or half-deleted
	 * tree) falls back to the installed directory rather than failing. */
	if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	return 0;
}
