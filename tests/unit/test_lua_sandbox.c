/* policy-lua's sandbox against hostile scripts (issue 22 item 10): work
 * done inside C functions (pattern matching on a pattern built from a user
 * name, string.rep) and __gc finalizers ran outside the instruction budget,
 * so a policy could hold a worker thread (or the loop, at reload) for
 * good. Each hostile call must end with an error naming the limit, quickly;
 * ordinary scripts must be unaffected. The sandbox's source is compiled in. */
#include <criterion/criterion.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../plugins/policy-lua/lua_sandbox.c"

#define MEM (8u << 20)
#define INSTR 1000000L
#define TIME_MS 500L
#define LSB_OPEN(sb, path, err, len) lsb_open(sb, path, MEM, INSTR, TIME_MS, err, len)

static char script[64];

static void write_script(const char *text)
{
	snprintf(script, sizeof(script), "/tmp/wg-lua-XXXXXX");
	int fd = mkstemp(script);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int open_script(struct lsb *sb, const char *text, char *err, size_t errlen)
{
	write_script(text);
	int rc = LSB_OPEN(sb, script, err, errlen);
	unlink(script);
	return rc;
}

/* Calls f(arg) in the script; returns lsb_pcall's result, err set. */
static int call(struct lsb *sb, const char *arg, char *err, size_t errlen, double *took)
{
	double t0 = now_s();
	cr_assert(lsb_get_function(sb, "f"));
	lua_pushstring(sb->L, arg);
	int rc = lsb_pcall(sb, 1, 1, INSTR, err, errlen);
	if (rc == 0)
		lua_pop(sb->L, 1);
	*took = now_s() - t0;
	return rc;
}

static void expect_stopped(const char *text, const char *arg, const char *reason)
{
	struct lsb sb;
	char err[512];
	double took;

	cr_assert_eq(open_script(&sb, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(call(&sb, arg, err, sizeof(err), &took), -1, "the hostile call succeeded");
	cr_assert(strstr(err, reason) != NULL, "reason \"%s\" not in: %s", reason, err);
	cr_assert_lt(took, 5.0, "stopped only after %.1f s", took);
	/* the state is still usable afterwards */
	lua_pushinteger(sb.L, 1);
	lsb_close(&sb);
}

/* A pattern built from the user name: "a-a-a-...b" against a run of "a"s
 * backtracks through C(n+k, k) splits inside one C call. */
Test(lua_sandbox, pattern_from_user_name, .timeout = 30)
{
	char user[128] = "";
	for (int i = 0; i < 30; i++)
		strcat(user, "a-");
	strcat(user, "b");
	expect_stopped("function f(user) return string.find(string.rep('a', 60), user) end", user, "pattern");
}

/* The same through gsub and gmatch, and as a method call. */
Test(lua_sandbox, pattern_via_gsub_and_gmatch, .timeout = 30)
{
	char user[128] = "";
	for (int i = 0; i < 30; i++)
		strcat(user, ".-");
	strcat(user, "b");
	expect_stopped("function f(user) return (string.rep('a', 60)):gsub(user, '') end", user, "pattern");
	expect_stopped("function f(user) for m in string.gmatch(string.rep('a', 60), user) do end end", user, "pattern");
}

/* Big string.rep results, again and again: each one a few VM instructions
 * and megabytes of memset. */
Test(lua_sandbox, string_rep_loop, .timeout = 30)
{
	expect_stopped("function f() for i = 1, 1e6 do local s = string.rep('x', 3e6) end end", "", "limit");
}

/* Results under the size limit, but many: the deadline stops the loop. */
Test(lua_sandbox, string_rep_under_the_size_limit_loop, .timeout = 30)
{
	expect_stopped("function f() for i = 1, 1e6 do local s = string.rep('x', 2e6) end end", "", "time limit (500 ms)");
}

/* Copying a big string at every instruction ('..'): the large allocations
 * fail past the deadline, reported as the time limit. */
Test(lua_sandbox, big_concatenation_loop, .timeout = 30)
{
	expect_stopped("function f() local big = string.rep('x', 1e6) for i = 1, 1e7 do local s = big .. i end end", "",
		       "time limit (500 ms)");
}

/* A script that catches every error and carries on. */
Test(lua_sandbox, pcall_cannot_swallow_the_limit, .timeout = 30)
{
	expect_stopped("function f() while true do pcall(function() for i = 1, 1e9 do end end) end end", "", "limit");
}

/* A finalizer with an endless loop would run in lua_close (reload, stop)
 * with no budget at all: scripts may not set __gc. */
Test(lua_sandbox, no_gc_finalizers, .timeout = 30)
{
	struct lsb sb;
	char err[512];

	int rc = open_script(&sb, "setmetatable({}, {__gc = function() while true do end end})", err, sizeof(err));
	if (rc == 0)
		lsb_close(&sb); /* hangs where finalizers run unbounded */
	cr_assert_eq(rc, -1, "a __gc metamethod was accepted");
	cr_assert(strstr(err, "__gc") != NULL, "%s", err);
	/* tables with other metamethods are fine */
	cr_assert_eq(open_script(&sb, "t = setmetatable({}, {__index = function() return 1 end})", err, sizeof(err)), 0,
		     "%s", err);
	lsb_close(&sb);
}

/* Ordinary policies still work, patterns on user names included. */
Test(lua_sandbox, ordinary_patterns_work)
{
	struct lsb sb;
	char err[512], user[200];
	double took;

	memset(user, 'u', 150);
	strcpy(user + 150, "@corp.example.com");
	cr_assert_eq(open_script(&sb,
				 "function f(user)\n"
				 "  local name, domain, tld = user:match('^(.-)@(.-)%.(.*)$')\n"
				 "  assert(name and #name == 150 and domain == 'corp' and tld == 'example.com')\n"
				 "  assert(user:find('@', 1, true) == 151)\n"
				 "  assert(select(2, user:gsub('u', 'v')) == 150)\n"
				 "  local n = 0; for w in ('a,b,c'):gmatch('[^,]+') do n = n + 1 end; assert(n == 3)\n"
				 "  assert(#string.rep('ab', 1000, ',') == 2999)\n"
				 "  return true\n"
				 "end",
				 err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(call(&sb, user, err, sizeof(err), &took), 0, "%s", err);
	lsb_close(&sb);
}
