/* wolfguard-client: a command-line OpenConnect-protocol VPN client for
 * Linux (docs/client.md). Logs in (password, client certificate), sets up
 * CSTP and PSK-NEGOTIATE DTLS, configures the TUN device through a
 * vpnc-script with openconnect's environment, keeps the session alive and
 * resumes it with the cookie when the TLS connection drops. */
#include "client.h"
#include "lanes.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wolfguard-client [options] SERVER\n"
		"  SERVER is host[:port] or https://host[:port]/ (port 443 by default)\n"
		"  -u, --user NAME             user name for the login form\n"
		"      --authgroup GROUP       group to pick when the server offers a list\n"
		"      --passwd-on-stdin       read the password from the first line of stdin\n"
		"      --cookie-on-stdin       read a webvpn cookie (from --authenticate) instead of logging in\n"
		"      --authenticate          log in, print COOKIE=, HOST= and FINGERPRINT=, and exit\n"
		"      --servercert pin-sha256:BASE64  accept the server whose key has this pin\n"
		"      --cafile FILE           verify the server's chain and name against FILE instead\n"
		"  -c, --certificate FILE      client certificate (PEM, chain allowed)\n"
		"  -k, --sslkey FILE           its private key (default: in the certificate file)\n"
		"  -s, --script PATH           vpnc-script (default %s; \"\" for none)\n"
		"  -i, --interface NAME        TUN device name (default: the kernel's tunN)\n"
		"      --no-dtls               CSTP (TLS) only\n"
		"  -m, --mtu N                 MTU to ask for (default 1390)\n"
		"      --reconnect-timeout S   how long to try to resume a dropped session (default 300)\n"
		"      --dtls-attempt-period S seconds between DTLS attempts after a failure (default 60)\n"
		"      --lanes N               ask a wolfguard server for N lanes (multi-lane transport)\n"
		"      --lane-bind IFACE       put the next lane on local interface IFACE (repeatable)\n"
		"      --non-inter             never prompt\n"
		"  -v, --verbose               more messages\n"
		"  -h, --help\n"
		"Signals: SIGINT/SIGTERM log off (the cookie ends); SIGHUP disconnects and keeps the session\n"
		"for a reconnect with the cookie; SIGUSR2 drops and resumes the TLS connection.\n",
		WGC_DEFAULT_SCRIPT);
}

/* "https://host:port/path" or "host:port" into host and port. */
static int parse_server(struct wgc_opts *o, const char *arg)
{
	const char *p = arg, *end, *colon;
	size_t hl;

	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	end = p + strcspn(p, "/");
	if (*p == '[') { /* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return -1;
		hl = (size_t)(rb - p - 1);
		if (hl == 0 || hl >= sizeof(o->host))
			return -1;
		memcpy(o->host, p + 1, hl);
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hl = (size_t)((colon ? colon : end) - p);
		if (hl == 0 || hl >= sizeof(o->host))
			return -1;
		memcpy(o->host, p, hl);
	}
	o->host[hl] = '\0';
	o->port = 443;
	if (colon) {
		char *e;
		unsigned long n = strtoul(colon + 1, &e, 10);
		if (e != end || n == 0 || n > 65535)
			return -1;
		o->port = (unsigned)n;
	}
	o->server = o->host;
	return 0;
}

/* One line from stdin (the password or the cookie), without its newline. */
static int read_line(char *out, size_t cap)
{
	if (!fgets(out, (int)cap, stdin))
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static const char *ask_password(void *arg, const char *label)
{
	struct wgc *c = arg;
	struct termios t, quiet;
	int tty = isatty(STDIN_FILENO);

	if (c->o.non_inter || !tty)
		return NULL;
	fprintf(stderr, "%s ", label);
	tcgetattr(STDIN_FILENO, &t);
	quiet = t;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	int rc = read_line(c->password, sizeof(c->password));
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
	fputc('\n', stderr);
	return rc < 0 ? NULL : c->password;
}

enum {
	OPT_PASSWD_STDIN = 256, OPT_COOKIE_STDIN, OPT_AUTHENTICATE, OPT_SERVERCERT, OPT_CAFILE, OPT_NO_DTLS,
	OPT_RECONNECT_TIMEOUT, OPT_DTLS_PERIOD, OPT_LANES, OPT_LANE_BIND, OPT_NON_INTER, OPT_AUTHGROUP,
};

static const struct option long_opts[] = {
	{"user", required_argument, NULL, 'u'},
	{"authgroup", required_argument, NULL, OPT_AUTHGROUP},
	{"passwd-on-stdin", no_argument, NULL, OPT_PASSWD_STDIN},
	{"cookie-on-stdin", no_argument, NULL, OPT_COOKIE_STDIN},
	{"authenticate", no_argument, NULL, OPT_AUTHENTICATE},
	{"servercert", required_argument, NULL, OPT_SERVERCERT},
	{"cafile", required_argument, NULL, OPT_CAFILE},
	{"certificate", required_argument, NULL, 'c'},
	{"sslkey", required_argument, NULL, 'k'},
	{"script", required_argument, NULL, 's'},
	{"interface", required_argument, NULL, 'i'},
	{"no-dtls", no_argument, NULL, OPT_NO_DTLS},
	{"mtu", required_argument, NULL, 'm'},
	{"reconnect-timeout", required_argument, NULL, OPT_RECONNECT_TIMEOUT},
	{"dtls-attempt-period", required_argument, NULL, OPT_DTLS_PERIOD},
	{"lanes", required_argument, NULL, OPT_LANES},
	{"lane-bind", required_argument, NULL, OPT_LANE_BIND},
	{"non-inter", no_argument, NULL, OPT_NON_INTER},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int uint_arg(const char *opt, const char *v, unsigned min, unsigned max, unsigned *out)
{
	char *e;
	unsigned long n = strtoul(v, &e, 10);
	if (e == v || *e || n < min || n > max) {
		wgc_log("%s: \"%s\" is not a number from %u to %u", opt, v, min, max);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int parse_args(struct wgc *c, int argc, char **argv)
{
	struct wgc_opts *o = &c->o;
	int ch;

	o->script = WGC_DEFAULT_SCRIPT;
	o->reconnect_timeout_s = 300;
	o->dtls_attempt_period_s = 60;
	o->dtls_handshake_timeout_s = 10;
	o->mtu = 1390;
	while ((ch = getopt_long(argc, argv, "u:c:k:s:i:m:vh", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'u': o->user = optarg; break;
		case OPT_AUTHGROUP: o->group = optarg; break;
		case OPT_PASSWD_STDIN: o->passwd_on_stdin = 1; break;
		case OPT_COOKIE_STDIN: o->cookie_on_stdin = 1; break;
		case OPT_AUTHENTICATE: o->authenticate_only = 1; break;
		case OPT_SERVERCERT:
			if (strncmp(optarg, "pin-sha256:", 11) != 0 || strlen(optarg) != 11 + 44) {
				wgc_log("--servercert: expected pin-sha256: and 44 base64 characters, got \"%s\"", optarg);
				return -1;
			}
			o->servercert = optarg;
			break;
		case OPT_CAFILE: o->cafile = optarg; break;
		case 'c': o->certfile = optarg; break;
		case 'k': o->keyfile = optarg; break;
		case 's': o->script = optarg; break;
		case 'i':
			if (strlen(optarg) >= sizeof(c->tundev)) {
				wgc_log("--interface: name too long");
				return -1;
			}
			o->ifname = optarg;
			break;
		case OPT_NO_DTLS: o->no_dtls = 1; break;
		case 'm':
			if (uint_arg("--mtu", optarg, 576, 9000, &o->mtu) < 0)
				return -1;
			break;
		case OPT_RECONNECT_TIMEOUT:
			if (uint_arg("--reconnect-timeout", optarg, 0, 86400, &o->reconnect_timeout_s) < 0)
				return -1;
			break;
		case OPT_DTLS_PERIOD:
			if (uint_arg("--dtls-attempt-period", optarg, 1, 86400, &o->dtls_attempt_period_s) < 0)
				return -1;
			break;
		case OPT_LANES:
			if (uint_arg("--lanes", optarg, 1, WGP_TC_MAX_LANES, &o->lanes) < 0)
				return -1;
			break;
		case OPT_LANE_BIND:
			if (o->n_lane_bind == sizeof(o->lane_bind) / sizeof(o->lane_bind[0])) {
				wgc_log("--lane-bind: at most %d", WGP_TC_MAX_LANES);
				return -1;
			}
			o->lane_bind[o->n_lane_bind++] = optarg;
			break;
		case OPT_NON_INTER: o->non_inter = 1; break;
		case 'v': o->verbose = 1; wgc_log_verbose(1); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -1;
	}
	if (parse_server(o, argv[optind]) < 0) {
		wgc_log("bad server \"%s\": expected host[:port] or https://host[:port]/", argv[optind]);
		return -1;
	}
	if (o->passwd_on_stdin && o->cookie_on_stdin) {
		wgc_log("--passwd-on-stdin and --cookie-on-stdin exclude each other");
		return -1;
	}
	if (o->n_lane_bind > o->lanes)
		o->lanes = o->n_lane_bind; /* one lane per interface named */
	if (o->lanes && !wgc_lanes_available()) {
		wgc_log("--lanes: this build has no lanes (it was made without plugins/transport-lanes)");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct wgc c; /* the pushed configuration is large */
	static uint8_t extra[4096];
	struct wgc_tls tls = {-1, NULL};
	size_t extra_len = 0;
	uint8_t secret[48];
	int fatal, refused, rc = 1;

	c.tun_fd = -1;
	if (parse_args(&c, argc, argv) < 0)
		return 2;
	if (c.o.cookie_on_stdin) {
		if (read_line(c.cookie, sizeof(c.cookie)) < 0 || !c.cookie[0]) {
			wgc_log("--cookie-on-stdin: no cookie on stdin");
			return 2;
		}
	} else if (c.o.passwd_on_stdin) {
		if (read_line(c.password, sizeof(c.password)) < 0) {
			wgc_log("--passwd-on-stdin: nothing on stdin");
			return 2;
		}
		c.have_password = 1;
	}
	if (getrandom(secret, sizeof(secret), 0) != sizeof(secret)) {
		wgc_log("getrandom: %s", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(secret); i++)
		snprintf(c.dtls_secret + 2 * i, 3, "%02X", secret[i]);

	wolfSSL_Init();
	if (wgc_resolve(&c) < 0 || wgc_tls_ctx(&c) < 0)
		goto out;
	if (wgc_tls_open(&c, &tls, &fatal) < 0)
		goto out;
	if (!c.o.cookie_on_stdin) {
		if (wgc_login_ask(&c, &tls, ask_password, &c) < 0)
			goto out;
		if (c.o.authenticate_only) {
			char pin[80] = "";
			wgc_peer_pin(tls.ssl, pin, sizeof(pin));
			printf("COOKIE='%s'\nHOST='%s'\nCONNECT_URL='https://%s:%u/'\nFINGERPRINT='%s'\n", c.cookie,
			       c.gateway, c.o.host, c.o.port, pin);
			rc = 0;
			goto out;
		}
	}
	if (wgc_connect_tunnel(&c, &tls, extra, sizeof(extra), &extra_len, &refused) < 0)
		goto out;
	if (c.o.ifname)
		snprintf(c.tundev, sizeof(c.tundev), "%s", c.o.ifname);
	if (wgc_script_run(&c, "pre-init") != 0)
		goto out;
	if ((c.tun_fd = wgc_tun_open(c.tundev, sizeof(c.tundev))) < 0)
		goto out;
	if (wgc_script_run(&c, "connect") != 0) {
		wgc_log("the vpnc-script could not configure %s", c.tundev);
		goto out;
	}
	wgc_log("connected to %s: %s address %s%s%s", c.gateway, c.tundev, c.tc.address,
		c.tc.address6[0] ? ", " : "", c.tc.address6);
	rc = wgc_tunnel_run(&c, &tls, extra, extra_len);
	wgc_script_run(&c, "disconnect");
out:
	wgc_tls_close(&tls);
	if (c.tun_fd >= 0)
		close(c.tun_fd);
	if (c.tls_ctx)
		wolfSSL_CTX_free(c.tls_ctx);
	wolfSSL_Cleanup();
	memset(c.password, 0, sizeof(c.password));
	return rc;
}
