/* The cluster's Lua scripts (core/cluster/scripts.c) against a real
 * redis-server (Debian's, started here on a unix socket in a temporary
 * directory): the shared failure count adds up within its window; a claim
 * of the shared pool is all or nothing, a held address is refused to
 * another session, its holder renews it, a lapsed one can be claimed
 * again, the end script deletes only what is still the session's; and two
 * processes racing over a small pool never both win an address; the sum of
 * the other members' per-user counts leaves out the caller's own node's
 * workers and forgets lapsed members. Skipped
 * when redis-server is not installed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/scripts.h"

static char dir[64], sock[128];
static pid_t redis_pid;

static redisContext *connect_redis(void)
{
	redisContext *c = redisConnectUnix(sock);
	if (c && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

static void start_redis(void)
{
	if (access("/usr/bin/redis-server", X_OK) != 0)
		cr_skip_test("redis-server is not installed");
	snprintf(dir, sizeof(dir), "/tmp/wg-lease-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	redis_pid = fork();
	cr_assert_geq(redis_pid, 0);
	if (redis_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/bin/redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
		      "--appendonly", "no", "--dir", dir, (char *)NULL);
		_exit(127);
	}
	/* Up when it answers (a generous deadline for a busy machine). */
	for (int i = 0; i < 300; i++) {
		redisContext *c = connect_redis();
		if (c) {
			redisReply *r = redisCommand(c, "PING");
			bool ok = r && r->type == REDIS_REPLY_STATUS;
			freeReplyObject(r);
			redisFree(c);
			if (ok)
				return;
		}
		usleep(100 * 1000);
	}
	cr_assert_fail("redis-server did not answer on %s", sock);
}

static void stop_redis(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	redis_pid = 0;
	if (dir[0]) {
		char path[192];
		snprintf(path, sizeof(path), "%s/dump.rdb", dir);
		unlink(path);
		unlink(sock);
		rmdir(dir);
	}
}

TestSuite(cluster_lease, .init = start_redis, .fini = stop_redis, .timeout = 120);

/* A command's integer answer, or -1 for any other answer. */
static long long eval_int(redisContext *c, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

/* EVAL of the claim script over keys; the integer answer, or -1. */
static long long claim(redisContext *c, const char *hash, const char *ttl, int nkeys, const char **keys)
{
	const char *argv[8] = {"EVAL", wg_cluster_claim_script, nkeys == 1 ? "1" : "2"};
	int argc = 3;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = keys[i];
	argv[argc++] = hash;
	argv[argc++] = ttl;
	return eval_int(c, argc, argv);
}

static bool key_is(redisContext *c, const char *key, const char *want)
{
	redisReply *r = redisCommand(c, "GET %s", key);
	bool ok = want ? r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0
		       : r && r->type == REDIS_REPLY_NIL;
	freeReplyObject(r);
	return ok;
}

/* EVAL of the failure-count script (failures.c); the count, or -1. */
static long long count_failure(redisContext *c, const char *key, const char *window)
{
	const char *argv[5] = {"EVAL", wg_cluster_failure_script, "1", key, window};
	return eval_int(c, 5, argv);
}

static long long ttl_of(redisContext *c, const char *key)
{
	redisReply *r = redisCommand(c, "TTL %s", key);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
	freeReplyObject(r);
	return v;
}

/* The shared failure count: one more per failure from any node, a TTL of
 * the window from its first failure that later failures do not extend (so
 * the window is the local table's: fixed from its first failure), a count
 * left without a TTL gets one, a lapsed count starts again at 1. */
Test(cluster_lease, failure_count_adds_up_within_its_window)
{
	redisContext *c = connect_redis();
	cr_assert_not_null(c);
	const char *k = "wg:fail:198.51.100.2";
	cr_assert_eq(count_failure(c, k, "300"), 1);
	long long ttl = ttl_of(c, k);
	cr_assert(ttl > 0 && ttl <= 300, "the first failure starts the window (TTL %lld)", ttl);
	redisReply *r = redisCommand(c, "EXPIRE %s 50", k);
	freeReplyObject(r);
	cr_assert_eq(count_failure(c, k, "300"), 2, "a second node's failure adds up");
	ttl = ttl_of(c, k);
	cr_assert(ttl > 0 && ttl <= 50, "a later failure does not extend the window (TTL %lld)", ttl);
	cr_assert_eq(count_failure(c, k, "300"), 3);
	r = redisCommand(c, "PERSIST %s", k);
	freeReplyObject(r);
	cr_assert_eq(count_failure(c, k, "300"), 4);
	ttl = ttl_of(c, k);
	cr_assert(ttl > 0 && ttl <= 300, "a count without a TTL gets one (TTL %lld)", ttl);
	const char *other = "wg:fail:2001:db8::/64";
	cr_assert_eq(count_failure(c, other, "300"), 1, "another address counts alone");
	/* The window lapses: the count starts again. */
	cr_assert_eq(count_failure(c, "wg:fail:198.51.100.9", "1"), 1);
	for (int i = 0; i < 100 && ttl_of(c, "wg:fail:198.51.100.9") != -2; i++)
		usleep(100 * 1000);
	cr_assert_eq(count_failure(c, "wg:fail:198.51.100.9", "1"), 1, "a lapsed window starts at 1");
	redisFree(c);
}

Test(cluster_lease, claim_conflict_renew_and_all_or_none)
{
	redisContext *c = connect_redis();
	cr_assert_not_null(c);
	const char *k4[1] = {"wg:lease4:10.8.0.2"};
	cr_assert_eq(claim(c, "H1", "60", 1, k4), 0, "a free address is claimed");
	cr_assert_eq(claim(c, "H2", "60", 1, k4), 1, "another session's claim is refused");
	cr_assert(key_is(c, k4[0], "H1"), "a refused claim writes nothing");
	cr_assert_eq(claim(c, "H1", "60", 1, k4), 0, "the holder renews");
	redisReply *r = redisCommand(c, "TTL %s", k4[0]);
	cr_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 60, "the lease has its TTL");
	freeReplyObject(r);
	/* IPv4 free, IPv6 held by H1: H2 gets neither. */
	const char *both[2] = {"wg:lease4:10.8.0.3", "wg:lease6:fd00::3"};
	const char *six[1] = {both[1]};
	cr_assert_eq(claim(c, "H1", "60", 1, six), 0);
	cr_assert_eq(claim(c, "H2", "60", 2, both), 2, "the answer names the held key");
	cr_assert(key_is(c, both[0], NULL), "a half-claimed lease is not written");
	cr_assert_eq(claim(c, "H1", "60", 2, both), 0);
	cr_assert(key_is(c, both[0], "H1") && key_is(c, both[1], "H1"));
	redisFree(c);
}

Test(cluster_lease, renew_only_never_creates)
{
	redisContext *c = connect_redis();
	cr_assert_not_null(c);
	const char *argv[6] = {"EVAL", wg_cluster_claim_script, "1", "wg:lease4:10.8.0.5", "H1", "60"};
	const char *renew[7] = {"EVAL", wg_cluster_claim_script, "1", "wg:lease4:10.8.0.5", "H1", "60", "renew"};
	redisReply *r = redisCommandArgv(c, 7, renew, NULL);
	cr_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer == -1, "a missing lease is not renewed");
	freeReplyObject(r);
	cr_assert(key_is(c, "wg:lease4:10.8.0.5", NULL), "renew created the key");
	r = redisCommandArgv(c, 6, argv, NULL);
	cr_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0);
	freeReplyObject(r);
	r = redisCommandArgv(c, 7, renew, NULL);
	cr_assert(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0, "the holder's lease is renewed");
	freeReplyObject(r);
	redisFree(c);
}

Test(cluster_lease, lapsed_lease_is_claimed_again)
{
	redisContext *c = connect_redis();
	cr_assert_not_null(c);
	const char *k[1] = {"wg:lease4:10.8.0.9"};
	cr_assert_eq(claim(c, "dead-node-session", "1", 1, k), 0);
	cr_assert_eq(claim(c, "H2", "60", 1, k), 1, "held while the TTL runs");
	/* A dead node renews nothing: the key lapses (Redis's clock: wait for it). */
	long long got = 1;
	for (int i = 0; i < 200 && got != 0; i++) {
		usleep(50 * 1000);
		got = claim(c, "H2", "60", 1, k);
	}
	cr_assert_eq(got, 0, "the lapsed lease was not claimed again");
	cr_assert(key_is(c, k[0], "H2"));
	redisFree(c);
}

static long long end_session(redisContext *c, const char *record, const char *lease, const char *node,
			     const char *hash)
{
	const char *argv[7] = {"EVAL", wg_cluster_end_script, "2", record, lease, node, hash};
	return eval_int(c, 7, argv);
}

Test(cluster_lease, end_deletes_only_what_is_still_the_sessions)
{
	redisContext *c = connect_redis();
	cr_assert_not_null(c);
	const char *k[1] = {"wg:lease4:10.8.0.4"};
	freeReplyObject(redisCommand(c, "HSET wg:s:H1 node b user alice"));
	cr_assert_eq(claim(c, "H1", "60", 1, k), 0);
	/* Node a lets go, but node b holds the session now: nothing goes. */
	cr_assert_eq(end_session(c, "wg:s:H1", k[0], "a", "H1"), 0);
	cr_assert(key_is(c, k[0], "H1"), "a letting-go node deleted the lease of a session another node holds");
	/* Node b ends it: the record and the lease go. */
	cr_assert_eq(end_session(c, "wg:s:H1", k[0], "b", "H1"), 1);
	cr_assert(key_is(c, k[0], NULL));
	redisReply *r = redisCommand(c, "EXISTS wg:s:H1");
	cr_assert(r && r->integer == 0);
	freeReplyObject(r);
	/* An end whose address another session holds by now leaves that lease. */
	cr_assert_eq(claim(c, "H9", "60", 1, k), 0);
	cr_assert_eq(end_session(c, "wg:s:H1", k[0], "", "H1"), 1);
	cr_assert(key_is(c, k[0], "H9"), "an ended session deleted another session's lease");
	redisFree(c);
}

#define POOL 8
#define PER_NODE 12

/* One "node": PER_NODE sessions, each trying the pool's addresses from a
 * start of its own until one is claimed; writes "session address" lines. */
static void node_process(int node, int out)
{
	redisContext *c = connect_redis();
	if (!c)
		_exit(2);
	for (int s = 0; s < PER_NODE; s++) {
		char hash[32], key[64];
		snprintf(hash, sizeof(hash), "n%d-s%d", node, s);
		for (int t = 0; t < POOL; t++) {
			int a = (s + t) % POOL;
			snprintf(key, sizeof(key), "wg:lease4:10.9.0.%d", a + 2);
			const char *k[1] = {key};
			long long r = claim(c, hash, "60", 1, k);
			if (r < 0)
				_exit(3);
			if (r == 0) {
				char line[96];
				int n = snprintf(line, sizeof(line), "%s %d\n", hash, a);
				if (write(out, line, (size_t)n) != n)
					_exit(4);
				break;
			}
		}
	}
	redisFree(c);
	_exit(0);
}

Test(cluster_lease, two_nodes_racing_never_share_an_address)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t kids[2];
	for (int n = 0; n < 2; n++) {
		kids[n] = fork();
		cr_assert_geq(kids[n], 0);
		if (kids[n] == 0) {
			close(p[0]);
			node_process(n, p[1]);
		}
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	cr_assert_not_null(f);
	int owners[POOL] = {0}, won = 0;
	char hash[32];
	int a;
	while (fscanf(f, "%31s %d", hash, &a) == 2) {
		cr_assert(a >= 0 && a < POOL);
		owners[a]++;
		won++;
	}
	fclose(f);
	for (int n = 0; n < 2; n++) {
		int st;
		cr_assert_eq(waitpid(kids[n], &st, 0), kids[n]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a racing node failed (%d)", st);
	}
	for (int i = 0; i < POOL; i++)
		cr_assert_eq(owners[i], 1, "address %d was won %d times", i, owners[i]);
	cr_assert_eq(won, POOL, "%d sessions won an address; %d addresses, %d sessions", won, POOL, 2 * PER_NODE);
}

/* Node a runs two workers (members a/w0, a/w1), node b one (member b), and a
 * node named "a/west" (not a worker of a). Worker a/w0 sums the others: b
 * and a/west count, its sibling a/w1 does not (the workers of a share their
 * local table), and a member whose hash lapsed leaves the set. */
Test(cluster_lease, the_count_sum_leaves_out_the_own_nodes_workers)
{
	redisContext *c = connect_redis();
	cr_assert_not_null(c);
	const char *members[] = {"a/w0", "a/w1", "b", "a/west", "gone"};
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		freeReplyObject(redisCommand(c, "SADD wg:nodes %s", members[i]));
	freeReplyObject(redisCommand(c, "HSET wg:n:a/w0 alice 1"));
	freeReplyObject(redisCommand(c, "HSET wg:n:a/w1 alice 1 bob 2"));
	freeReplyObject(redisCommand(c, "HSET wg:n:b alice 2"));
	freeReplyObject(redisCommand(c, "HSET wg:n:a/west carol 1"));

	redisReply *r = redisCommand(c, "EVAL %s 1 wg:nodes a/w0 wg: a", wg_cluster_count_script);
	cr_assert(r && r->type == REDIS_REPLY_ARRAY, "no array: %s", r && r->str ? r->str : "?");
	long alice = 0, bob = 0, carol = 0;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		long v = strtol(r->element[i + 1]->str, NULL, 10);
		if (strcmp(r->element[i]->str, "alice") == 0)
			alice = v;
		else if (strcmp(r->element[i]->str, "bob") == 0)
			bob = v;
		else if (strcmp(r->element[i]->str, "carol") == 0)
			carol = v;
	}
	freeReplyObject(r);
	cr_assert_eq(alice, 2, "alice: node b's 2 only, not a/w1's (got %ld)", alice);
	cr_assert_eq(bob, 0, "bob's sessions are all on a sibling worker (got %ld)", bob);
	cr_assert_eq(carol, 1, "a/west is another node, not a worker of a (got %ld)", carol);
	r = redisCommand(c, "SISMEMBER wg:nodes gone");
	cr_assert_eq(r->integer, 0, "a member without a count hash stays in the set");
	freeReplyObject(r);

	/* One worker: "" leaves out only the caller. */
	r = redisCommand(c, "EVAL %s 1 wg:nodes b wg: %s", wg_cluster_count_script, "");
	cr_assert(r && r->type == REDIS_REPLY_ARRAY);
	cr_assert_eq(r->elements, 6, "alice, bob and carol from a's workers and a/west (got %zu items)", r->elements);
	freeReplyObject(r);
	redisFree(c);
}
