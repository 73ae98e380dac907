/* One conf.d directory per test, for the suites that load conf.d trees
 * (test_config, test_vhost): conf_dir_setup makes an empty temporary
 * directory (dir) and a clean error list (err); conf_dir_teardown frees
 * what the test loaded into conf and removes the directory. Name them in
 * the suite's TestSuite(.init, .fini). Header-only, like conf_fixture.h. */
#ifndef WG_TEST_CONF_DIR_FIXTURE_H
#define WG_TEST_CONF_DIR_FIXTURE_H

#include "conf_fixture.h"
#include "config/config.h"
#include "util/err.h"

static char *dir;
static struct wg_err err;
static struct wg_conf *conf;

static inline void conf_dir_setup(void)
{
	dir = fixture_tmpdir();
	wg_err_init(&err);
	conf = NULL;
}

static inline void conf_dir_teardown(void)
{
	wg_conf_free(conf);
	fixture_rmrf(dir);
}

#endif
