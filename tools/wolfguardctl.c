/* wolfguardctl: talks to a running wolfguard over its control socket.
 * Human-readable tables by default; --json prints the server's reply as is
 * (always one valid JSON object). Exit status: 0 ok, 1 the server said no,
 * 2 usage, 3 cannot reach the server. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/wolfguard/control.sock"
#define MAX_REPLY (256u << 20)

static void usage(FILE *out)
{
	fprintf(out, "usage: wolfguardctl [-s SOCKET] [--json] COMMAND\n"
		     "  status                 server version, uptime, sessions, plugins\n"
		     "  list                   all sessions\n"
		     "  show USER|ID           sessions of a user, or one session by id\n"
		     "  disconnect USER|ID     end those sessions (clients get a DISCONNECT)\n"
		     "  reload                 apply a changed conf.d (not implemented yet)\n"
		     "SOCKET defaults to " DEFAULT_SOCKET ".\n");
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
	} else if (strcmp(cmd, "disconnect") == 0) {
		printf("%lld session(s) disconnected\n", (long long)json_integer_value(json_object_get(reply, "disconnected")));
	} else {
		print_sessions(reply);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *path = getenv("WOLFGUARD_CONTROL_SOCKET");
	int as_json = 0, opt;

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	while ((opt = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		if (opt == 's')
			path = optarg;
		else if (opt == 'j')
			as_json = 1;
		else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	const char *target = optind + 1 < argc ? argv[optind + 1] : NULL;
	int needs_target = strcmp(cmd, "show") == 0 || strcmp(cmd, "disconnect") == 0;
	if ((needs_target && !target) || (!needs_target && target) || optind + 2 < argc) {
		usage(stderr);
		return 2;
	}
	/* A selector made only of digits is a session id; anything else a user. */
	json_t *req = json_pack("{s:s}", "cmd", cmd);
	if (target)
		json_object_set_new(req, strspn(target, "0123456789") == strlen(target) ? "id" : "user",
				    json_string(target));
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *answer = text ? exchange(path, text) : NULL;
	free(text);
	if (!answer) {
		fprintf(stderr, "wolfguardctl: cannot talk to %s: %s\n", path, strerror(errno));
		return 3;
	}
	json_error_t jerr;
	json_t *reply = json_loads(answer, 0, &jerr);
	if (!reply) {
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
