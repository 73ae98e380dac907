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
	void *p = realloc(ptr, nsize);
	if (p)
		sb->mem_used = sb->mem_used - osize + nsize;
	return p;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	struct lsb *sb;

	(void)ar;
	lua_getallocf(L, (void **)&sb);
	sb->spent += HOOK_EVERY;
	/* Raised again at every later check, so a script cannot swallow it with
	 * pcall and carry on. */
	if (sb->spent > sb->budget)
		luaL_error(L, "instruction limit (%I) exceeded", (lua_Integer)sb->budget);
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
	lua_sethook(sb->L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
	int rc = lua_pcall(sb->L, nargs, nresults, 0);
	lua_sethook(sb->L, NULL, 0, 0);
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(sb->L, -1);
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

int lsb_open(struct lsb *sb, const char *path, size_t mem_limit, long max_instructions, char *err, size_t errlen)
{
	struct stat st;

	memset(sb, 0, sizeof(*sb));
	snprintf(sb->path, sizeof(sb->path), "%s", path);
	sb->mem_limit = mem_limit;
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
	if (lsb_open(fresh, sb->path, sb->mem_limit, max_instructions, err, errlen) < 0) {
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
