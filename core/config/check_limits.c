/* Checks of the per-session limits' values (check_limits.h). */
#include "config/check_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/route_filter.h"
#include "util/err.h"

#define MAX_ACCOUNTS 100000

static void check_ports(const struct wg_config *c, const char *key, const char *where, const char *ports,
			struct wg_err *err)
{
	struct wg_route_filter *f;
	char why[160];

	if (!ports || !*ports)
		return;
	if (!(f = calloc(1, sizeof(*f)))) {
		wg_err_add(err, "out of memory");
		return;
	}
	if (wg_port_rules_parse(ports, f, why, sizeof(why)) < 0)
		wg_err_add(err, "%s: %s: restrict-user-to-ports: %s", wg_config_where(c, key), where, why);
	free(f);
}

static void check_accounts(const struct wg_config *c, const char *accounts, struct wg_err *err)
{
	const char **names = malloc(MAX_ACCOUNTS * sizeof(*names));
	size_t n;

	if (!names) {
		wg_err_add(err, "out of memory");
		return;
	}
	n = wg_config_account_names(c, accounts, names, MAX_ACCOUNTS);
	for (size_t i = 0; i < n; i++) {
		char where[300];
		const char *nets[64];
		size_t k = wg_config_account_list(c, accounts, names[i], "iroute", nets, 64);
		snprintf(where, sizeof(where), "%s.%s", accounts, names[i]);
		const char *ports = wg_config_account_string(c, accounts, names[i], "restrict-user-to-ports");
		check_ports(c, accounts, where, ports, err);
		if (k && strcmp(accounts, "users") != 0)
			wg_err_add(err, "%s: %s: iroute: only in a users entry (a network is behind one user's client)",
				   wg_config_where(c, accounts), where);
		else if (k && wg_config_int(c, "workers") > 1)
			wg_err_add(err,
				   "%s: %s: iroute needs \"workers\": 1 (the TUN steering between workers knows "
				   "only leased addresses)",
				   wg_config_where(c, accounts), where);
		for (size_t j = 0; j < k; j++) {
			struct wg_filter_net net;
			if (wg_filter_net_parse(nets[j], &net) < 0)
				wg_err_add(err, "%s: %s: iroute: \"%s\" is not a network", wg_config_where(c, accounts),
					   where, nets[j]);
		}
	}
	free(names);
}

void wg_check_limits(const struct wg_config *c, struct wg_err *err)
{
	const char *action = wg_config_string(c, "data-quota-action");
	const char *method = wg_config_string(c, "rekey-method");

	if (strcmp(action, "disconnect") != 0 && strcmp(action, "throttle") != 0)
		wg_err_add(err, "%s: data-quota-action: expected \"disconnect\" or \"throttle\"",
			   wg_config_where(c, "data-quota-action"));
	const char *period = wg_config_string(c, "data-quota-period");
	if (strcmp(period, "day") != 0 && strcmp(period, "week") != 0 && strcmp(period, "month") != 0)
		wg_err_add(err, "%s: data-quota-period: expected \"day\", \"week\" or \"month\"",
			   wg_config_where(c, "data-quota-period"));
	if (strcmp(method, "ssl") != 0 && strcmp(method, "new-tunnel") != 0)
		wg_err_add(err, "%s: rekey-method: expected \"ssl\" or \"new-tunnel\"",
			   wg_config_where(c, "rekey-method"));
	check_ports(c, "restrict-user-to-ports", "server", wg_config_string(c, "restrict-user-to-ports"), err);
	check_accounts(c, "users", err);
	check_accounts(c, "groups", err);
}
