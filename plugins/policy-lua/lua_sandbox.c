/* The policy scripts' sandbox. */
#include "lua_sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define HOOK_EVERY 1000 /* instructions between budget checks */
/* Allocations at least this large check the deadline: copying big strings
 * is work no instruction count sees. */
#define BIG_ALLOC (64u << 10)
/* The most matcher steps (see pattern_steps) one pattern call may need in
 * the worst case, about half a second at most: a bound on one C call,
 * beyond which the deadline, checked before each call, takes over. */
#define MAX_PATTERN_STEPS 1e8

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static bool past_deadline(const struct lsb *sb)
{
	return sb->deadline_ns && now_ns() > sb->deadline_ns;
}

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lsb *sb = ud;

	if (!ptr)
		osize = 0; /* osize is a type tag for new blocks */
	if (nsize == 0) {
		free(ptr);
		sb->mem_used -= osize;
		return NULL;
	}
	if (nsize > osize && sb->mem_used + (nsize - osize) > sb->mem_limit)
		return NULL; /* Lua turns this into a "not enough memory" error */
	if (nsize > osize && nsize - osize >= BIG_ALLOC && past_deadline(sb)) {
		sb->timed_out = true; /* reported as the time limit by lsb_pcall */
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		sb->mem_used = sb->mem_used - osize + nsize;
	return p;
}

static struct lsb *sandbox_of(lua_State *L)
{
	struct lsb *sb;
	lua_getallocf(L, (void **)&sb);
	return sb;
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* Raises the error of an exhausted budget or a passed deadline, if any.
 * From then on the hook runs at every instruction of this thread, so a
 * script that catches the error with pcall is stopped at its very next
 * instruction outside the pcall. */
static void check_limits(lua_State *L, struct lsb *sb)
{
	bool time_up = past_deadline(sb);

	if (sb->spent <= sb->budget && !time_up)
		return;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
	if (time_up) {
		sb->timed_out = true;
		luaL_error(L, "time limit (%I ms) exceeded", (lua_Integer)sb->time_limit_ms);
	}
	luaL_error(L, "instruction limit (%I) exceeded", (lua_Integer)sb->budget);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	struct lsb *sb = sandbox_of(L);

	(void)ar;
	sb->spent += HOOK_EVERY;
	check_limits(L, sb);
}

/* --- C functions that can work long on little input -------------------------- */

/* Calls the wrapped original (upvalue 1) with this call's arguments. */
static int call_original(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* One single-character class of a pattern at p (an escape, a set, '.', or
 * a literal): its length; a malformed one is left to Lua to report. */
static size_t class_len(const char *p, const char *end)
{
	const char *q = p;

	if (*q == '%')
		return q + 1 < end ? 2 : 1;
	if (*q != '[')
		return 1;
	q++;
	if (q < end && *q == '^')
		q++;
	do { /* the first ']' is a member, not the end */
		if (q < end && *q == '%')
			q++;
		q++;
	} while (q < end && *q != ']');
	return (size_t)(q < end ? q + 1 - p : end - p);
}

/* An estimate of the matcher's worst case for pattern p on n bytes: each
 * repeated item (*, +, - or %b) that something follows may have to try
 * every length, so k of them try at most C(n + k, k) splits, each trying
 * the pattern's items once more; '?' doubles it; a repeated last item can
 * only succeed (one scan of n); an unanchored search does it all from every
 * start. Measured on the development machine: from 0.4 to 4 ns a step
 * ("a-a-a-b" on 82 bytes: 3.3e7 steps, 14 ms; "a-b" on 10^4 bytes: 1e8
 * steps, 0.42 s). Saturates above the limit. */
static double pattern_steps(const char *p, size_t pl, size_t n, bool may_anchor)
{
	const char *end = p + pl;
	double splits = 1, items = 0, outer = (double)n + 1, tail = 0;
	unsigned k = 0;

	if (may_anchor && pl && *p == '^') {
		outer = 1;
		p++;
	}
	while (p < end && splits * outer <= MAX_PATTERN_STEPS) {
		if (*p == '(' || *p == ')' || (*p == '$' && p + 1 == end)) {
			p++;
			continue;
		}
		items++;
		if (*p == '%' && p + 1 < end && (p[1] == 'b' || p[1] == 'f')) {
			bool balance = p[1] == 'b';
			p += balance ? (p + 4 <= end ? 4 : (size_t)(end - p)) : 2 + (p + 2 < end ? class_len(p + 2, end) : 0);
			if (balance) {
				k++;
				splits *= ((double)n + k) / k;
			}
			continue;
		}
		p += class_len(p, end);
		if (p < end && (*p == '*' || *p == '+' || *p == '-')) {
			bool last = p + 1 == end || (p + 2 == end && p[1] == '$') || (p + 2 == end && p[1] == ')') ||
				    (p + 3 == end && p[1] == ')' && p[2] == '$');
			if (last)
				tail = (double)n;
			else {
				k++;
				splits *= ((double)n + k) / k;
			}
			p++;
		} else if (p < end && *p == '?') {
			splits *= 2;
			p++;
		}
	}
	return outer * splits * (items > 0 ? items : 1) + tail;
}

/* string.find, match, gmatch and gsub: refused before they start when the
 * worst case of the pattern on this subject is too much work. */
static int guarded_pattern(lua_State *L)
{
	struct lsb *sb = sandbox_of(L);
	size_t n, pl;
	const char *s = luaL_checklstring(L, 1, &n), *p = luaL_checklstring(L, 2, &pl);
	bool is_find = lua_toboolean(L, lua_upvalueindex(2));
	bool may_anchor = lua_toboolean(L, lua_upvalueindex(3));

	(void)s;
	check_limits(L, sb);
	if (!(is_find && lua_toboolean(L, 4)) && pattern_steps(p, pl, n, may_anchor) > MAX_PATTERN_STEPS) {
		char why[160]; /* luaL_error knows no precision */
		snprintf(why, sizeof(why), "pattern \"%.40s%s\" is too costly on a subject of %zu bytes (over %.0e steps)", p,
			 pl > 40 ? "..." : "", n, MAX_PATTERN_STEPS);
		return luaL_error(L, "%s", why);
	}
	return call_original(L);
}

/* string.rep: at most a quarter of the memory limit per result. */
static int guarded_rep(lua_State *L)
{
	struct lsb *sb = sandbox_of(L);
	size_t l, lsep = 0;
	luaL_checklstring(L, 1, &l);
	lua_Integer count = luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &lsep);

	check_limits(L, sb);
	double bytes = count > 0 ? (double)count * (double)l + (double)(count - 1) * (double)lsep : 0;
	if (bytes > (double)(sb->mem_limit / 4)) {
		char why[120];
		snprintf(why, sizeof(why), "string.rep: a result of %.0f bytes is over the limit of %zu", bytes, sb->mem_limit / 4);
		return luaL_error(L, "%s", why);
	}
	return call_original(L);
}

/* setmetatable without __gc: a finalizer runs when the collector decides,
 * lua_close included, where no budget applies. (Lua marks an object for
 * finalization only if __gc is present when the metatable is set.) */
static int guarded_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
		lua_pop(L, 1);
		if (has_gc)
			return luaL_error(L, "policy scripts may not set __gc finalizers");
	}
	return call_original(L);
}

/* Replaces table[name] (the table on top of the stack) with fn wrapping
 * the original, with up to two boolean upvalues after it. */
static void wrap(lua_State *L, const char *name, lua_CFunction fn, int nflags, bool f1, bool f2)
{
	lua_getfield(L, -1, name);
	if (nflags > 0)
		lua_pushboolean(L, f1);
	if (nflags > 1)
		lua_pushboolean(L, f2);
	lua_pushcclosure(L, fn, 1 + nflags);
	lua_setfield(L, -2, name);
}

static int lua_wg_time(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)time(NULL));
	return 1;
}

/* wolfguard.localtime([t]) -> {year, month, day, hour, min, sec, wday (1 = Sunday)} */
static int lua_wg_localtime(lua_State *L)
{
	time_t t = (time_t)luaL_optinteger(L, 1, (lua_Integer)time(NULL));
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return luaL_error(L, "time out of range");
	lua_createtable(L, 0, 7);
	lua_pushinteger(L, tm.tm_year + 1900), lua_setfield(L, -2, "year");
	lua_pushinteger(L, tm.tm_mon + 1), lua_setfield(L, -2, "month");
	lua_pushinteger(L, tm.tm_mday), lua_setfield(L, -2, "day");
	lua_pushinteger(L, tm.tm_hour), lua_setfield(L, -2, "hour");
	lua_pushinteger(L, tm.tm_min), lua_setfield(L, -2, "min");
	lua_pushinteger(L, tm.tm_sec), lua_setfield(L, -2, "sec");
	lua_pushinteger(L, tm.tm_wday + 1), lua_setfield(L, -2, "wday");
	return 1;
}

static void open_safe_libs(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{LUA_GNAME, luaopen_base},       {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
		{LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
		{NULL, NULL},
	};
	/* No file, process, module-loading or introspection access: */
	static const char *const removed[] = {"dofile", "loadfile", "load", "require", "collectgarbage", NULL};

	for (const luaL_Reg *l = libs; l->name; l++) {
		luaL_requiref(L, l->name, l->func, 1);
		lua_pop(L, 1);
	}
	for (const char *const *r = removed; *r; r++) {
		lua_pushnil(L);
		lua_setglobal(L, *r);
	}
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump"); /* bytecode out means bytecode in elsewhere */
	/* The string metatable's __index is this same table: s:find() too. */
	wrap(L, "find", guarded_pattern, 2, true, true);
	wrap(L, "match", guarded_pattern, 2, false, true);
	wrap(L, "gmatch", guarded_pattern, 2, false, false);
	wrap(L, "gsub", guarded_pattern, 2, false, true);
	wrap(L, "rep", guarded_rep, 0, false, false);
	lua_pop(L, 1);
	lua_pushglobaltable(L);
	wrap(L, "setmetatable", guarded_setmetatable, 0, false, false);
	lua_pop(L, 1);

	lua_createtable(L, 0, 4);
	lua_pushcfunction(L, lua_wg_time);
	lua_setfield(L, -2, "time");
	lua_pushcfunction(L, lua_wg_localtime);
	lua_setfield(L, -2, "localtime");
	lua_setglobal(L, "wolfguard");
}

int lsb_pcall(struct lsb *sb, int nargs, int nresults, long max_instructions, char *err, size_t errlen)
{
	sb->budget = max_instructions;
	sb->spent = 0;
	sb->timed_out = false;
	sb->deadline_ns = now_ns() + (int64_t)sb->time_limit_ms * 1000000;
	lua_sethook(sb->L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
	int rc = lua_pcall(sb->L, nargs, nresults, 0);
	lua_sethook(sb->L, NULL, 0, 0);
	sb->deadline_ns = 0;
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(sb->L, -1);
		/* A big allocation refused past the deadline reads as "not enough
		 * memory": say which limit it was. */
		if (sb->timed_out && (!msg || !strstr(msg, "time limit")))
			snprintf(err, errlen, "time limit (%ld ms) exceeded: %s", sb->time_limit_ms,
				 msg ? msg : "error object is not a string");
		else
			snprintf(err, errlen, "%s", msg ? msg : "error object is not a string");
		lua_pop(sb->L, 1);
		return -1;
	}
	return 0;
}

static int stat_script(const char *path, struct stat *st)
{
	return stat(path, st);
}

int lsb_open(struct lsb *sb, const char *path, size_t mem_limit, long max_instructions, long time_limit_ms, char *err,
	     size_t errlen)
{
	struct stat st;

	memset(sb, 0, sizeof(*sb));
	snprintf(sb->path, sizeof(sb->path), "%s", path);
	sb->mem_limit = mem_limit;
	sb->time_limit_ms = time_limit_ms;
	if (stat_script(path, &st) < 0) {
		snprintf(err, errlen, "%s: cannot read script", path);
		return -1;
	}
	sb->mtime = st.st_mtim;
	sb->ino = st.st_ino;
	sb->size = st.st_size;
	sb->L = lua_newstate(counting_alloc, sb);
	if (!sb->L) {
		snprintf(err, errlen, "cannot create a Lua state");
		return -1;
	}
	open_safe_libs(sb->L);
	/* Text only: precompiled chunks can crash the VM. */
	if (luaL_loadfilex(sb->L, path, "t") != LUA_OK) {
		snprintf(err, errlen, "%s", lua_tostring(sb->L, -1));
		lsb_close(sb);
		return -1;
	}
	if (lsb_pcall(sb, 0, 0, max_instructions, err, errlen) < 0) {
		lsb_close(sb);
		return -1;
	}
	return 0;
}

void lsb_close(struct lsb *sb)
{
	if (sb->L)
		lua_close(sb->L);
	sb->L = NULL;
}

int lsb_reload_if_changed(struct lsb *sb, long max_instructions, char *err, size_t errlen)
{
	struct stat st;

	if (stat_script(sb->path, &st) < 0)
		return 0; /* being replaced right now; keep what runs */
	if (st.st_ino == sb->ino && st.st_size == sb->size && st.st_mtim.tv_sec == sb->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == sb->mtime.tv_nsec)
		return 0;
	struct lsb *fresh = malloc(sizeof(*fresh));
	if (!fresh)
		return -1;
	if (lsb_open(fresh, sb->path, sb->mem_limit, max_instructions, sb->time_limit_ms, err, errlen) < 0) {
		/* Remember the broken version so it is reported once, not per call. */
		sb->mtime = st.st_mtim;
		sb->ino = st.st_ino;
		sb->size = st.st_size;
		free(fresh);
		return -1;
	}
	lsb_close(sb);
	*sb = *fresh;
	/* The allocator's user data must follow the struct it now lives in. */
	lua_setallocf(sb->L, counting_alloc, sb);
	free(fresh);
	return 1;
}

bool lsb_get_function(struct lsb *sb, const char *name)
{
	if (lua_getglobal(sb->L, name) == LUA_TFUNCTION)
		return true;
	lua_pop(sb->L, 1);
	return false;
}
