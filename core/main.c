/* wolfguard: an OpenConnect-protocol VPN server. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "config/check_config.h"
#include "config/config.h"
#include "util/log.h"
#include "workers/master.h"
#include "server.h"
#include "config/server_options.h"
#include "net/tls.h"

#define DEFAULT_CONF_DIR "/etc/wolfguard/conf.d"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: wolfguard [-c CONFDIR]          run the server (default %s)\n"
		"       wolfguard --check-config CONFDIR  validate the configuration and exit 0 (valid) or 1\n"
		"       wolfguard --print-pin CERT.pem    print the pin-sha256 of a certificate (openconnect --servercert)\n"
		"       wolfguard --version\n",
		DEFAULT_CONF_DIR);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, 'C'},
		{"print-pin", required_argument, NULL, 'P'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_CONF_DIR;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			dir = optarg;
			break;
		case 'C':
			return wg_check_config(optarg, stdout);
		case 'P': {
			char pin[128];
			wolfSSL_Init();
			if (wg_tls_cert_pin(optarg, pin, sizeof(pin)) < 0) {
				fprintf(stderr, "wolfguard: cannot read a certificate from %s\n", optarg);
				return 1;
			}
			printf("%s\n", pin);
			wolfSSL_Cleanup();
			return 0;
		}
		case 'V':
			printf("wolfguard %s (plugin ABI %u)\n", WG_VERSION, WG_ABI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	struct wg_err err;
	struct wg_conf *conf = NULL;
	wg_err_init(&err);
	if (wg_conf_load(dir, &conf, &err) < 0) {
		fprintf(stderr, "%s", err.text);
		return 1;
	}
	/* Several workers: the master forks them (each sets itself up). */
	if (wg_config_validate(conf->server, wg_server_options, &err) == 0 && wg_config_int(conf->server, "workers") > 1)
		return wg_master_run(conf);
	wolfSSL_Init();
	struct wg_server *srv = calloc(1, sizeof(*srv));
	int rc = 1;
	if (srv && wg_server_init(srv, conf, NULL) == 0)
		rc = wg_server_run(srv) == 0 ? 0 : 1;
	else if (!srv)
		wg_conf_free(conf);
	if (srv) {
		wg_server_fini(srv);
		free(srv);
	}
	wolfSSL_Cleanup();
	return rc;
}
