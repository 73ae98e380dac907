/* Helpers for tests that need a conf.d directory on disk or a host table
 * (test_config, test_loader, test_log, test_sdk_example). Header-only so
 * each test stays one executable. */
#ifndef WG_TEST_CONF_FIXTURE_H
#define WG_TEST_CONF_FIXTURE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "util/log.h"

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string. */
static inline char *fixture_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = NULL;
	cr_assert(asprintf(&dir, "%s/wgtest.XXXXXX", base && *base ? base : "/tmp") > 0);
	cr_assert(mkdtemp(dir), "mkdtemp %s", dir);
	return dir;
}

static inline void fixture_write(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot create %s", path);
	fputs(text, f);
	fclose(f);
}

static inline int fixture_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static inline void fixture_rmrf(char *dir)
{
	if (dir)
		nftw(dir, fixture_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Path of a test plugin built by tests/unit/plugins/meson.build. */
static inline char *fixture_test_plugin(const char *name)
{
	const char *root = getenv("WOLFGUARD_BUILD_ROOT");
	cr_assert(root, "WOLFGUARD_BUILD_ROOT is not set (run through meson test)");
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/tests/unit/plugins/%s.so", root, name) > 0);
	return p;
}

/* Path of a real plugin of the build (build/plugins/<name>.so). */
static inline char *fixture_plugin(const char *name)
{
	const char *root = getenv("WOLFGUARD_BUILD_ROOT");
	cr_assert(root, "WOLFGUARD_BUILD_ROOT is not set (run through meson test)");
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/plugins/%s.so", root, name) > 0);
	return p;
}

/* The part of struct wg_host these tests need: config and logging. */
static inline struct wg_host fixture_host(void)
{
	return (struct wg_host){
		.abi_version = WG_ABI_VERSION,
		.struct_size = sizeof(struct wg_host),
		.log = wg_log,
		.vlog = wg_vlog,
		.config_string = wg_config_string,
		.config_int = wg_config_int,
		.config_bool = wg_config_bool,
		.config_list_size = wg_config_list_size,
		.config_list_item = wg_config_list_item,
		.config_where = wg_config_where,
	};
}

#endif
