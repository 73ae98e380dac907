/* The cluster's Lua scripts (scripts.h). */
#include "cluster/scripts.h"

const char wg_cluster_claim_script[] = "for i, k in ipairs(KEYS) do\n"
				       "  local v = redis.call('GET', k)\n"
				       "  if v and v ~= ARGV[1] then return i end\n"
				       "  if not v and ARGV[3] == 'renew' then return -i end\n"
				       "end\n"
				       "for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'EX', ARGV[2]) end\n"
				       "return 0\n";

const char wg_cluster_end_script[] =
	"if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"for i = 2, #KEYS do if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end end\n"
	"return 1\n";

/* INCR and EXPIRE in one script: a node that died between the two would
 * leave a count that never lapses. A count found without a TTL (written by
 * hand) gets one too. */
const char wg_cluster_failure_script[] = "local n = redis.call('INCR', KEYS[1])\n"
					 "if n == 1 or redis.call('TTL', KEYS[1]) < 0 then\n"
					 "  redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
					 "end\n"
					 "return n\n";

const char wg_cluster_count_script[] =
	"local out = {}\n"
	"for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	"  if n ~= ARGV[1] and (ARGV[3] == '' or string.match(n, '^(.+)/w%d+$') ~= ARGV[3]) then\n"
	"    local h = redis.call('HGETALL', ARGV[2] .. 'n:' .. n)\n"
	"    if #h == 0 then redis.call('SREM', KEYS[1], n) end\n"
	"    for i = 1, #h, 2 do out[h[i]] = (out[h[i]] or 0) + tonumber(h[i + 1]) end\n"
	"  end\n"
	"end\n"
	"local r = {}\n"
	"for k, v in pairs(out) do if v > 0 then r[#r + 1] = k; r[#r + 1] = tostring(v) end end\n"
	"return r\n";
