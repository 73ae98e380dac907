/* A server started from its meson build tree (build/core/wolfguard) finds
 * the plugins built beside it, while an installed one uses the installed
 * plugin directory. The build writes a marker file next to the binary,
 * core/wolfguard.plugin-dir, naming the build tree's plugin directory
 * relative to the binary; installation does not copy it, so an installed
 * binary never sees one. No build path is compiled into the binary. */
#ifndef WG_BUILD_TREE_H
#define WG_BUILD_TREE_H

#include <stddef.h>

/* The name of the marker, looked for in the directory of the executable. */
#define WG_BUILD_TREE_MARKER "wolfguard.plugin-dir"

/* exe: the path of the running executable. When exe's directory holds the
 * marker, and the directory it names (its first line; relative to exe's
 * directory unless absolute) exists, writes that directory to out and
 * returns 0; else returns -1 (not a build tree, or an unusable marker). */
int wg_build_tree_plugin_dir(const char *exe, char *out, size_t outlen);

#endif
