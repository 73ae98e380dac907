/* Runs the vpnc-script with openconnect's environment (script_env.c) and
 * waits for it: the device must be configured before packets flow. */
#include "client.h"
#include "script_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int wgc_script_run(const struct wgc *c, const char *reason)
{
	struct wgc_env env;
	struct wgc_env_in in = {
		.reason = reason,
		.tundev = c->tundev,
		.gateway = c->gateway,
		.pid = (long)getpid(),
		.log_level = c->o.verbose ? 2 : 1,
		.tc = strcmp(reason, "pre-init") == 0 ? NULL : &c->tc,
	};
	pid_t pid;
	int st;

	if (!c->o.script || !c->o.script[0])
		return 0;
	if (wgc_env_build(&in, &env) < 0) {
		wgc_log("script: out of memory");
		return -1;
	}
	wgc_debug(c, "running %s (reason=%s)", c->o.script, reason);
	pid = fork();
	if (pid < 0) {
		wgc_log("script: fork: %s", strerror(errno));
		wgc_env_free(&env);
		return -1;
	}
	if (pid == 0) {
		for (size_t i = 0; i < env.n; i++)
			putenv(env.vars[i]);
		execl(c->o.script, c->o.script, (char *)NULL);
		fprintf(stderr, "wolfguard-client: cannot run %s: %s\n", c->o.script, strerror(errno));
		_exit(127);
	}
	wgc_env_free(&env);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			wgc_log("script: waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		wgc_log("script %s (reason=%s) failed: %s %d", c->o.script, reason,
			WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	return 0;
}
