/* wolfguardctl: talks to a running wolfguard over its control socket.
 * Human-readable tables by default; --json prints the server's reply as is
 * (always one valid JSON object, also for errors found here). Exit status:
 * 0 ok, 1 the server said no, 2 usage, 3 cannot reach the server. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cluster_ctl.h"

#define DEFAULT_SOCKET "/run/wolfguard/control.sock"
#define MAX_REPLY (256u << 20)

static void usage(FILE *out)
{
	fprintf(out, "usage: wolfguardctl [-s SOCKET] [--json] COMMAND\n"
		     "  status                 server version, uptime, sessions, plugins\n"
		     "  list                   all sessions\n"
		     "  show USER|ID           sessions of a user, or one session by id\n"
		     "  disconnect USER|ID     end those sessions (clients get a DISCONNECT)\n"
		     "  reload                 apply a changed conf.d (new logins; sessions keep theirs)\n"
		     "  ban ADDR [SECONDS]     refuse connections from a client address (default: ban-time)\n"
		     "  unban ADDR             lift a ban (and forget the address's failed logins)\n"
		     "  bans                   banned addresses\n"
		     "  events                 follow logins, failures, connects, disconnects and bans:\n"
		     "                         one JSON object per line, until interrupted\n"
		     "SOCKET defaults to " DEFAULT_SOCKET ".\n"
		     "       wolfguardctl --cluster ADDR [--cluster-prefix P] [--cluster-user U]\n"
		     "                    [--cluster-password-file F] [--cluster-tls-ca FILE --cluster-tls-name NAME\n"
		     "                    [--cluster-tls-cert FILE --cluster-tls-key FILE]]\n"
		     "                    [--json] status|sessions|disconnect USER|ban ADDR [SECONDS]|unban ADDR\n"
		     "  the cluster's sessions and nodes read from its Redis; disconnect, ban and unban reach every node\n"
		     "  within about 2 s (docs/cluster.md). --cluster-tls-*: TLS to Redis's TLS port, its certificate\n"
		     "  from a CA in --cluster-tls-ca and issued for --cluster-tls-name (a DNS name, or an IP address\n"
		     "  matched against IP SANs only); -cert and -key:\n"
		     "  a client certificate (Redis's tls-auth-clients)\n");
}

/* `events`: copies the server's JSON lines to stdout as they come, each
 * flushed at once (a consumer in a pipe sees it at once), until the server
 * closes. Returns the exit status. */
#define EVENTS_REQUEST "{\"cmd\":\"events\"}\n"

static int follow_events(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[65536];
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "wolfguardctl: %s: path too long\n", path);
		return 3;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, EVENTS_REQUEST, strlen(EVENTS_REQUEST)) != (ssize_t)strlen(EVENTS_REQUEST)) {
		fprintf(stderr, "wolfguardctl: cannot talk to %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 3;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0)
			break; /* the consumer went away */
	}
	close(fd);
	return 0;
}

/* Sends the request, returns the reply (malloc'd) or NULL with errno. */
static char *exchange(const char *path, const char *request)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	size_t rlen = strlen(request);
	if (write(fd, request, rlen) != (ssize_t)rlen || write(fd, "\n", 1) != 1)
		goto fail;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_REPLY) {
				errno = EMSGSIZE;
				goto fail;
			}
			char *nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v && *v ? v : "-";
}

static void human_bytes(json_int_t b, char *out, size_t len)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4)
		v /= 1024, u++;
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void print_session_details(json_t *s)
{
	char rx[32], tx[32];
	json_t *g;
	size_t i;

	human_bytes(json_integer_value(json_object_get(s, "rx_bytes")), rx, sizeof(rx));
	human_bytes(json_integer_value(json_object_get(s, "tx_bytes")), tx, sizeof(tx));
	printf("session %s\n  user            %s\n  group           %s\n  groups         ", str(s, "id"), str(s, "user"),
	       str(s, "group"));
	json_array_foreach(json_object_get(s, "groups"), i, g)
		printf(" %s", json_string_value(g));
	printf("%s\n", json_array_size(json_object_get(s, "groups")) ? "" : " -");
	printf("  client address  %s\n  VPN address     %s %s\n  tunnel          %s\n  DTLS            %s\n", str(s, "client_address"),
	       str(s, "vpn_address"), json_string_value(json_object_get(s, "vpn_address6")) ? str(s, "vpn_address6") : "",
	       str(s, "tunnel"), str(s, "dtls_state"));
	printf("  received        %s (%lld packets)\n  sent            %s (%lld packets)\n", rx,
	       (long long)json_integer_value(json_object_get(s, "rx_packets")), tx,
	       (long long)json_integer_value(json_object_get(s, "tx_packets")));
	printf("  uptime          %llds\n  client          %s (version %s, %s)\n  configuration   generation %lld\n",
	       (long long)json_integer_value(json_object_get(s, "uptime_s")), str(s, "user_agent"), str(s, "client_version"),
	       str(s, "client_platform"), (long long)json_integer_value(json_object_get(s, "config_generation")));
}

static void print_bans(json_t *reply)
{
	json_t *list = json_object_get(reply, "bans"), *b;
	size_t i;

	printf("%-40s %10s %8s %s\n", "ADDRESS", "REMAINING", "FAILURES", "REASON");
	json_array_foreach(list, i, b)
		printf("%-40s %9llds %8lld %s\n", str(b, "addr"), (long long)json_integer_value(json_object_get(b, "remaining_s")),
		       (long long)json_integer_value(json_object_get(b, "failures")), str(b, "reason"));
	printf("%zu ban%s\n", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
}

static void print_sessions(json_t *reply)
{
	json_t *list = json_object_get(reply, "sessions"), *s;
	size_t i;

	printf("%-6s %-16s %-12s %-16s %-15s %-8s %10s %10s %8s\n", "ID", "USER", "GROUP", "CLIENT", "VPN-ADDRESS",
	       "CHANNEL", "RX", "TX", "UPTIME");
	json_array_foreach(list, i, s) {
		char rx[32], tx[32];
		human_bytes(json_integer_value(json_object_get(s, "rx_bytes")), rx, sizeof(rx));
		human_bytes(json_integer_value(json_object_get(s, "tx_bytes")), tx, sizeof(tx));
		const char *chan = json_is_true(json_object_get(s, "dtls")) ? "DTLS"
				   : strcmp(str(s, "tunnel"), "connected") == 0 ? "TLS" : "waiting";
		printf("%-6s %-16s %-12s %-16s %-15s %-8s %10s %10s %7llds\n", str(s, "id"), str(s, "user"),
		       str(s, "group"), str(s, "client_address"), str(s, "vpn_address"), chan, rx, tx,
		       (long long)json_integer_value(json_object_get(s, "uptime_s")));
	}
	printf("%zu session%s\n", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
}

static void print_human(const char *cmd, json_t *reply)
{
	if (strcmp(cmd, "status") == 0) {
		json_t *p;
		size_t i;
		printf("wolfguard %s, up %llds, %lld sessions, %lld connections not logged in\nplugins:\n",
		       str(reply, "version"), (long long)json_integer_value(json_object_get(reply, "uptime_s")),
		       (long long)json_integer_value(json_object_get(reply, "sessions")),
		       (long long)json_integer_value(json_object_get(reply, "unauthenticated_connections")));
		json_array_foreach(json_object_get(reply, "plugins"), i, p)
			printf("  %-16s %-8s %s\n", str(p, "name"), str(p, "kind"), str(p, "version"));
		if (json_is_integer(json_object_get(reply, "workers")))
			printf("worker processes: %lld (sessions and counters summed over all)\n",
			       (long long)json_integer_value(json_object_get(reply, "workers")));
		json_t *c = json_object_get(reply, "counters");
		printf("configuration generation %lld (%lld alive)\n", (long long)json_integer_value(json_object_get(reply, "config_generation")),
		       (long long)json_integer_value(json_object_get(reply, "config_generations_alive")));
		printf("logins: %lld ok, %lld failed; bans: %lld active, %lld total, %lld connections refused\n",
		       (long long)json_integer_value(json_object_get(c, "logins_ok")),
		       (long long)json_integer_value(json_object_get(c, "logins_failed")),
		       (long long)json_integer_value(json_object_get(c, "bans_active")),
		       (long long)json_integer_value(json_object_get(c, "bans_total")),
		       (long long)json_integer_value(json_object_get(c, "ban_refused_connections")));
	} else if (strcmp(cmd, "disconnect") == 0) {
		printf("%lld session(s) disconnected\n", (long long)json_integer_value(json_object_get(reply, "disconnected")));
	} else if (strcmp(cmd, "reload") == 0) {
		printf("%s\n", str(reply, "message"));
	} else if (strcmp(cmd, "ban") == 0) {
		printf("%s banned for %llds\n", str(reply, "addr"), (long long)json_integer_value(json_object_get(reply, "seconds")));
	} else if (strcmp(cmd, "unban") == 0) {
		printf("%s %s\n", str(reply, "addr"), json_is_true(json_object_get(reply, "was_banned")) ? "unbanned" : "was not banned");
	} else if (strcmp(cmd, "bans") == 0) {
		print_bans(reply);
	} else if (strcmp(cmd, "show") == 0) {
		json_t *s;
		size_t i;
		json_array_foreach(json_object_get(reply, "sessions"), i, s)
			print_session_details(s);
		size_t n = json_array_size(json_object_get(reply, "sessions"));
		printf("%zu session%s\n", n, n == 1 ? "" : "s");
	} else {
		print_sessions(reply);
	}
}

/* For --json: even a failure found here is one JSON object on stdout. */
static void print_json_error(const char *why)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", why);
	char *out = o ? json_dumps(o, JSON_INDENT(2)) : NULL;

	printf("%s\n", out ? out : "{\"ok\": false}");
	free(out);
	json_decref(o);
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The request for a command line, or NULL when the arguments do not fit. */
static json_t *build_request(const char *cmd, int nargs, char **args)
{
	static const struct {
		const char *name;
		int min, max;
	} table[] = {
		{"status", 0, 0}, {"list", 0, 0}, {"reload", 0, 0}, {"bans", 0, 0}, {"show", 1, 1},
		{"disconnect", 1, 1}, {"ban", 1, 2}, {"unban", 1, 1},
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(cmd, table[i].name) == 0)
			break;
	if (i == sizeof(table) / sizeof(table[0]) || nargs < table[i].min || nargs > table[i].max)
		return NULL;
	json_t *req = json_pack("{s:s}", "cmd", cmd);
	if (!req)
		return NULL;
	if (strcmp(cmd, "show") == 0 || strcmp(cmd, "disconnect") == 0) {
		/* A selector made only of digits is a session id; anything else a user. */
		json_object_set_new(req, all_digits(args[0]) ? "id" : "user", json_string(args[0]));
	} else if (strcmp(cmd, "ban") == 0 || strcmp(cmd, "unban") == 0) {
		json_object_set_new(req, "addr", json_string(args[0]));
		if (nargs == 2) {
			if (!all_digits(args[1]) || strlen(args[1]) > 9) {
				json_decref(req);
				return NULL;
			}
			json_object_set_new(req, "seconds", json_integer(strtoll(args[1], NULL, 10)));
		}
	}
	return req;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'}, {"cluster", required_argument, NULL, 'C'},
		{"cluster-prefix", required_argument, NULL, 'P'}, {"cluster-user", required_argument, NULL, 'U'},
		{"cluster-password-file", required_argument, NULL, 'W'}, {"cluster-tls-ca", required_argument, NULL, 'A'},
		{"cluster-tls-name", required_argument, NULL, 'N'}, {"cluster-tls-cert", required_argument, NULL, 'E'},
		{"cluster-tls-key", required_argument, NULL, 'K'}, {NULL, 0, NULL, 0},
	};
	struct wg_ctl_cluster cluster = {.prefix = "wg:"};
	char password[512];
	const char *path = getenv("WOLFGUARD_CONTROL_SOCKET");
	int as_json = 0, opt;

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	while ((opt = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		if (opt == 's')
			path = optarg;
		else if (opt == 'C')
			cluster.addr = optarg;
		else if (opt == 'P')
			cluster.prefix = optarg;
		else if (opt == 'U')
			cluster.user = optarg;
		else if (opt == 'A')
			cluster.tls_ca = optarg;
		else if (opt == 'N')
			cluster.tls_name = optarg;
		else if (opt == 'E')
			cluster.tls_cert = optarg;
		else if (opt == 'K')
			cluster.tls_key = optarg;
		else if (opt == 'W') {
			FILE *f = fopen(optarg, "re");
			if (!f || !fgets(password, sizeof(password), f)) {
				fprintf(stderr, "wolfguardctl: %s: cannot read the password\n", optarg);
				if (f)
					fclose(f);
				return 2;
			}
			fclose(f);
			password[strcspn(password, "\r\n")] = '\0';
			cluster.password = password;
		}
		else if (opt == 'j')
			as_json = 1;
		else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc) {
		if (as_json)
			print_json_error("no command given");
		else
			usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	int nargs = argc - optind - 1;
	if (cluster.addr) {
#ifdef WG_CTL_CLUSTER
		return wg_ctl_cluster(&cluster, cmd, nargs, argv + optind + 1, as_json);
#else
		fprintf(stderr, "wolfguardctl: --cluster: built without hiredis\n");
		return 2;
#endif
	}
	if (strcmp(cmd, "events") == 0 && nargs == 0)
		return follow_events(path);
	char **args = argv + optind + 1;
	json_t *req = build_request(cmd, nargs, args);
	if (!req) {
		if (as_json)
			print_json_error("usage: see wolfguardctl --help");
		else
			usage(stderr);
		return 2;
	}
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *answer = text ? exchange(path, text) : NULL;
	free(text);
	if (!answer) {
		char why[512];
		snprintf(why, sizeof(why), "cannot talk to %s: %s", path, strerror(errno));
		if (as_json)
			print_json_error(why);
		else
			fprintf(stderr, "wolfguardctl: %s\n", why);
		return 3;
	}
	json_error_t jerr;
	json_t *reply = json_loads(answer, 0, &jerr);
	if (!reply) {
		if (as_json)
			print_json_error("the server's reply is not JSON");
		else
			fprintf(stderr, "wolfguardctl: the server's reply is not JSON: %s\n", jerr.text);
		free(answer);
		return 3;
	}
	int ok = json_is_true(json_object_get(reply, "ok"));
	if (as_json) {
		char *out = json_dumps(reply, JSON_INDENT(2));
		printf("%s\n", out ? out : "{}");
		free(out);
	} else if (ok) {
		print_human(cmd, reply);
	} else {
		fprintf(stderr, "wolfguardctl: %s\n", str(reply, "error"));
	}
	json_decref(reply);
	free(answer);
	return ok ? 0 : 1;
}
