/* A Lua 5.4 state for untrusted-by-default policy scripts: no io, os,
 * package or debug libraries; memory capped by a counting allocator; every
 * call capped in VM instructions by a count hook and in wall-clock time by
 * a deadline, which also bounds the work done inside C functions: the
 * pattern functions refuse a pattern whose worst case on its subject is too
 * large (a pattern built from a user name), string.rep a result over a
 * quarter of the memory limit, and large allocations fail past the
 * deadline. Scripts cannot set __gc finalizers (they would run in
 * lua_close, outside any budget). */
#ifndef WG_LUA_SANDBOX_H
#define WG_LUA_SANDBOX_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct lsb {
	lua_State *L;             /* owned */
	size_t mem_used, mem_limit;
	long budget, spent;       /* instructions allowed / used by the current call */
	long time_limit_ms;       /* wall-clock time one call may take */
	int64_t deadline_ns;      /* CLOCK_MONOTONIC end of the current call; 0 outside calls */
	bool timed_out;           /* the current call ran past its deadline */
	char path[4096];
	struct timespec mtime;    /* of the script that was loaded */
	ino_t ino;
	off_t size;
};

/* Loads and runs the script's top level. Returns 0, or -1 with the reason
 * (with the script's file:line for Lua errors) in err. */
int lsb_open(struct lsb *sb, const char *path, size_t mem_limit, long max_instructions, long time_limit_ms, char *err,
	     size_t errlen);
void lsb_close(struct lsb *sb);
/* Replaces the state if the file changed and the new one loads; keeps the
 * running one otherwise. Returns 1 if reloaded, 0 if unchanged, -1 if the
 * new script failed (reason in err; the old state stays). */
int lsb_reload_if_changed(struct lsb *sb, long max_instructions, char *err, size_t errlen);
/* Pushes the global function `name`; returns false (pushing nothing) when
 * the script does not define it. */
bool lsb_get_function(struct lsb *sb, const char *name);
/* lua_pcall with the instruction budget and the deadline armed. Returns 0, or -1 with the
 * error (file:line: message) in err and the stack cleaned. */
int lsb_pcall(struct lsb *sb, int nargs, int nresults, long max_instructions, char *err, size_t errlen);

#endif
