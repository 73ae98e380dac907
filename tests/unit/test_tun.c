/* The TUN device, for real: each device test forks a child that moves into a
 * fresh network namespace (so nothing touches the host's interfaces and
 * everything vanishes with the child), opens the device, reads its settings
 * back with ioctls and pings the kernel through it. Needs root; skipped
 * otherwise. The CIDR parser is tested everywhere. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tunnel/tun.h"
#include "util/addr.h"

/* ---- running a check in a child inside its own network namespace ---- */

#define SKIP_STATUS 77

static int report_fd = -1; /* the child's pipe to the parent */

/* In the child: report why and exit. Criterion asserts only work in the test
 * process itself, so the child reports through a pipe instead. */
static void __attribute__((noreturn, format(printf, 2, 3))) child_exit(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdprintf(report_fd, fmt, ap);
	va_end(ap);
	_exit(status);
}

#define CHECK(cond, ...)                                                               \
	do {                                                                           \
		if (!(cond)) {                                                         \
			dprintf(report_fd, "line %d: %s: ", __LINE__, #cond);          \
			child_exit(1, __VA_ARGS__);                                    \
		}                                                                      \
	} while (0)

static void run_in_netns(void (*check)(void))
{
	char msg[1024] = "";
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create a TUN device in a new network namespace");
	if (access("/dev/net/tun", R_OK | W_OK) != 0)
		cr_skip_test("/dev/net/tun is not available: %s", strerror(errno));
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		if (unshare(CLONE_NEWNET) != 0)
			child_exit(SKIP_STATUS, "cannot create a network namespace: %s", strerror(errno));
		check();
		_exit(0);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(msg) - 1 && (n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS)
		cr_skip_test("%s", msg);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %#x): %s", status, msg);
}

/* ---- packets ---- */

static uint16_t inet_checksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const char payload[] = "wolfguard tun echo";

/* An ICMP echo request 10.8.0.2 -> 10.8.0.1; returns its length. */
static size_t make_ping4(uint8_t *pkt)
{
	size_t icmp_len = 8 + sizeof(payload), len = 20 + icmp_len;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)len);
	pkt[8] = 64;  /* TTL */
	pkt[9] = 1;   /* ICMP */
	inet_pton(AF_INET, "10.8.0.2", pkt + 12);
	inet_pton(AF_INET, "10.8.0.1", pkt + 16);
	put16(pkt + 10, inet_checksum(pkt, 20, 0));
	uint8_t *icmp = pkt + 20;
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, 0x5767);
	put16(icmp + 6, 1);
	memcpy(icmp + 8, payload, sizeof(payload));
	put16(icmp + 2, inet_checksum(icmp, icmp_len, 0));
	return len;
}

/* Sum of the IPv6 pseudo-header for an ICMPv6 message of len bytes. */
static uint32_t pseudo6_sum(const uint8_t *ip6, size_t len)
{
	uint32_t sum = 0;

	for (int i = 8; i < 40; i += 2) /* source and destination */
		sum += (uint32_t)(ip6[i] << 8 | ip6[i + 1]);
	return sum + (uint32_t)len + 58;
}

/* An ICMPv6 echo request fd00:8::2 -> fd00:8::1; returns its length. */
static size_t make_ping6(uint8_t *pkt)
{
	size_t icmp_len = 8 + sizeof(payload), len = 40 + icmp_len;

	memset(pkt, 0, len);
	pkt[0] = 0x60;
	put16(pkt + 4, (uint16_t)icmp_len);
	pkt[6] = 58; /* ICMPv6 */
	pkt[7] = 64; /* hop limit */
	inet_pton(AF_INET6, "fd00:8::2", pkt + 8);
	inet_pton(AF_INET6, "fd00:8::1", pkt + 24);
	uint8_t *icmp = pkt + 40;
	icmp[0] = 128; /* echo request */
	put16(icmp + 4, 0x5767);
	put16(icmp + 6, 2);
	memcpy(icmp + 8, payload, sizeof(payload));
	put16(icmp + 2, inet_checksum(icmp, icmp_len, pseudo6_sum(pkt, icmp_len)));
	return len;
}

static bool is_echo_reply4(const uint8_t *p, ssize_t n)
{
	uint8_t src[4], dst[4];

	inet_pton(AF_INET, "10.8.0.1", src);
	inet_pton(AF_INET, "10.8.0.2", dst);
	if (n < 28 || p[0] != 0x45 || p[9] != 1 || memcmp(p + 12, src, 4) || memcmp(p + 16, dst, 4))
		return false;
	const uint8_t *icmp = p + 20;
	size_t icmp_len = (size_t)n - 20;
	return icmp[0] == 0 && (icmp[4] << 8 | icmp[5]) == 0x5767 && (icmp[6] << 8 | icmp[7]) == 1 &&
	       icmp_len == 8 + sizeof(payload) && memcmp(icmp + 8, payload, sizeof(payload)) == 0 &&
	       inet_checksum(p, 20, 0) == 0 && inet_checksum(icmp, icmp_len, 0) == 0;
}

static bool is_echo_reply6(const uint8_t *p, ssize_t n)
{
	uint8_t src[16], dst[16];

	inet_pton(AF_INET6, "fd00:8::1", src);
	inet_pton(AF_INET6, "fd00:8::2", dst);
	if (n < 48 || (p[0] >> 4) != 6 || p[6] != 58 || memcmp(p + 8, src, 16) || memcmp(p + 24, dst, 16))
		return false;
	const uint8_t *icmp = p + 40;
	size_t icmp_len = (size_t)n - 40;
	return icmp[0] == 129 && (icmp[4] << 8 | icmp[5]) == 0x5767 && (icmp[6] << 8 | icmp[7]) == 2 &&
	       icmp_len == 8 + sizeof(payload) && memcmp(icmp + 8, payload, sizeof(payload)) == 0 &&
	       inet_checksum(icmp, icmp_len, pseudo6_sum(p, icmp_len)) == 0;
}

/* Sends the request, then reads packets until one matches (the kernel may
 * also send IPv6 router solicitations and the like). Resends every 100 ms for
 * up to 3 s: a fresh IPv6 address is briefly "tentative" and drops traffic
 * until the kernel's address work item has run. */
static bool ping(struct wg_tun *t, const uint8_t *req, size_t req_len, bool (*match)(const uint8_t *, ssize_t))
{
	uint8_t buf[2048];
	struct pollfd pfd = {.fd = t->fd, .events = POLLIN};

	for (int round = 0; round < 30; round++) {
		if (wg_tun_write(t, req, req_len) != (ssize_t)req_len)
			return false;
		while (poll(&pfd, 1, 100) == 1) {
			ssize_t n = wg_tun_read(t, buf, sizeof(buf));
			if (n > 0 && match(buf, n))
				return true;
			if (n < 0 && errno != EAGAIN)
				return false;
		}
	}
	return false;
}

/* ---- settings read back from the kernel ---- */

static int query(int family, unsigned long req, struct ifreq *ifr, const char *name)
{
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	rc = ioctl(s, req, ifr);
	close(s);
	return rc;
}

static bool dev_exists(const char *name)
{
	struct ifreq ifr;
	return query(AF_INET, SIOCGIFINDEX, &ifr, name) == 0;
}

static const char *addr_of(const struct sockaddr *sa, char *buf)
{
	return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, INET_ADDRSTRLEN);
}

/* True if /proc/net/if_inet6 (this namespace's) lists hex_addr/prefix on dev. */
static bool has_inet6(const char *dev, const char *hex_addr, unsigned prefix)
{
	char line[256], addr[64], name[IFNAMSIZ + 1];
	unsigned idx, plen, scope, flags;
	FILE *f = fopen("/proc/net/if_inet6", "r");
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %x %x %x %x %16s", addr, &idx, &plen, &scope, &flags, name) == 6 &&
		    strcmp(addr, hex_addr) == 0 && plen == prefix && strcmp(name, dev) == 0)
			found = true;
	fclose(f);
	return found;
}

static void open_configure_and_ping(void)
{
	struct wg_tun t;
	struct ifreq ifr;
	char err[256] = "", a[INET_ADDRSTRLEN];
	uint8_t pkt[256];
	size_t len;
	int rc;

	rc = wg_tun_open(&t, "wgtest%d", 1400, "10.8.0.1", 24, "fd00:8::1", 64, err, sizeof(err));
	CHECK(rc == 0, "wg_tun_open: %d %s", rc, err);
	CHECK(strncmp(t.name, "wgtest", 6) == 0 && t.name[6] >= '0' && t.name[6] <= '9', "name %s", t.name);
	CHECK(t.mtu == 1400, "%u", t.mtu);
	CHECK(fcntl(t.fd, F_GETFL) & O_NONBLOCK, "fd is blocking");
	CHECK(fcntl(t.fd, F_GETFD) & FD_CLOEXEC, "fd lacks FD_CLOEXEC");

	CHECK(query(AF_INET, SIOCGIFMTU, &ifr, t.name) == 0 && ifr.ifr_mtu == 1400, "MTU %d", ifr.ifr_mtu);
	CHECK(query(AF_INET, SIOCGIFADDR, &ifr, t.name) == 0 && strcmp(addr_of(&ifr.ifr_addr, a), "10.8.0.1") == 0,
	      "address %s", a);
	CHECK(query(AF_INET, SIOCGIFNETMASK, &ifr, t.name) == 0 &&
		      strcmp(addr_of(&ifr.ifr_netmask, a), "255.255.255.0") == 0,
	      "netmask %s", a);
	CHECK(query(AF_INET, SIOCGIFFLAGS, &ifr, t.name) == 0 && (ifr.ifr_flags & IFF_UP), "flags %#x",
	      (unsigned)ifr.ifr_flags);
	CHECK(query(AF_INET, SIOCGIFTXQLEN, &ifr, t.name) == 0 && ifr.ifr_qlen == WG_TUN_QUEUE_LEN_DEFAULT, "txqueuelen %d",
	      ifr.ifr_qlen);
	CHECK(has_inet6(t.name, "fd000008000000000000000000000001", 64), "fd00:8::1/64 not on %s", t.name);

	/* The data path, both ways: the kernel answers our pings out of the TUN. */
	len = make_ping4(pkt);
	CHECK(ping(&t, pkt, len, is_echo_reply4), "no ICMP echo reply from 10.8.0.1: %s", strerror(errno));
	len = make_ping6(pkt);
	CHECK(ping(&t, pkt, len, is_echo_reply6), "no ICMPv6 echo reply from fd00:8::1: %s", strerror(errno));

	/* Nonblocking: an empty queue says EAGAIN instead of waiting. */
	int tries = 0;
	while (wg_tun_read(&t, pkt, sizeof(pkt)) >= 0 && ++tries < 100)
		;
	CHECK(tries < 100 && errno == EAGAIN, "read on an empty queue: %s", strerror(errno));

	char name[IFNAMSIZ];
	snprintf(name, sizeof(name), "%s", t.name);
	wg_tun_close(&t);
	CHECK(t.fd == -1, "fd not reset");
	wg_tun_close(&t); /* twice is harmless */
	CHECK(!dev_exists(name), "%s still exists after close", name);
}

Test(tun, open_configure_and_ping_through_kernel)
{
	run_in_netns(open_configure_and_ping);
}

static void ipv4_only_default_name(void)
{
	struct wg_tun t;
	struct ifreq ifr;
	char err[256] = "";
	int rc;

	/* "tun-queue-length" reaches the device. */
	wg_tun_set_queue_length(777);
	rc = wg_tun_open(&t, NULL, 1280, "192.168.77.1", 30, "", 0, err, sizeof(err));
	wg_tun_set_queue_length(0);
	CHECK(rc == 0, "wg_tun_open: %d %s", rc, err);
	CHECK(query(AF_INET, SIOCGIFTXQLEN, &ifr, t.name) == 0 && ifr.ifr_qlen == 777, "txqueuelen %d", ifr.ifr_qlen);
	CHECK(strncmp(t.name, "wolfguard", 9) == 0, "default name gave %s", t.name);
	CHECK(query(AF_INET, SIOCGIFNETMASK, &ifr, t.name) == 0, "%s", strerror(errno));
	char a[INET_ADDRSTRLEN];
	CHECK(strcmp(addr_of(&ifr.ifr_netmask, a), "255.255.255.252") == 0, "netmask %s", a);
	wg_tun_close(&t);
}

Test(tun, ipv4_only_with_default_name)
{
	run_in_netns(ipv4_only_default_name);
}

/* Each failure is explained, returns a negative errno and leaves no device. */
static void failures_leave_nothing(void)
{
	struct wg_tun t;
	char err[256];
	int rc;

	rc = wg_tun_open(&t, "wgbad0", 1400, "10.8.0.300", 24, "", 0, err, sizeof(err));
	CHECK(rc == -EINVAL && strstr(err, "10.8.0.300") && t.fd == -1, "%d %s", rc, err);
	CHECK(!dev_exists("wgbad0"), "device left behind after a bad IPv4 address");

	rc = wg_tun_open(&t, "wgbad1", 1400, "10.8.0.1", 24, "fd00::zz", 64, err, sizeof(err));
	CHECK(rc == -EINVAL && strstr(err, "fd00::zz"), "%d %s", rc, err);
	CHECK(!dev_exists("wgbad1"), "device left behind after a bad IPv6 address");

	rc = wg_tun_open(&t, "wgbad2", 1000, "10.8.0.1", 24, "fd00::1", 64, err, sizeof(err));
	CHECK(rc == -EINVAL && strstr(err, "MTU"), "IPv6 with MTU < 1280: %d %s", rc, err);

	rc = wg_tun_open(&t, "name-longer-than-15", 1400, "10.8.0.1", 24, "", 0, err, sizeof(err));
	CHECK(rc == -ENAMETOOLONG && strstr(err, "name"), "%d %s", rc, err);

	/* A second device of the same name is refused while the first is open. */
	struct wg_tun first;
	rc = wg_tun_open(&first, "wgdup0", 1400, "10.8.0.1", 24, "", 0, err, sizeof(err));
	CHECK(rc == 0, "%d %s", rc, err);
	rc = wg_tun_open(&t, "wgdup0", 1400, "10.9.0.1", 24, "", 0, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "wgdup0"), "%d %s", rc, err);
	CHECK(dev_exists("wgdup0"), "the failed second open removed the first device");
	wg_tun_close(&first);
}

Test(tun, failures_are_explained_and_leave_nothing)
{
	run_in_netns(failures_leave_nothing);
}

/* Without CAP_NET_ADMIN the error names the missing privilege. */
static void unprivileged(void)
{
	struct wg_tun t;
	char err[256] = "";
	int rc;

	CHECK(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0, "%s", strerror(errno));
	rc = wg_tun_open(&t, "wgperm0", 1400, "10.8.0.1", 24, "", 0, err, sizeof(err));
	CHECK(rc == -EPERM || rc == -EACCES, "rc %d: %s", rc, err);
	CHECK(strstr(err, "CAP_NET_ADMIN"), "error does not name the privilege: %s", err);
}

Test(tun, unprivileged_error_names_capability)
{
	run_in_netns(unprivileged);
}

/* ---- the CIDR parser (no privileges needed) ---- */

struct cidr_case {
	const char *cidr, *host;
	unsigned prefix;
};

Test(tun, first_host_of_networks)
{
	static const struct cidr_case ok[] = {
		{"10.8.0.0/24", "10.8.0.1", 24},
		{"10.8.0.77/24", "10.8.0.1", 24},
		{"172.16.0.0/12", "172.16.0.1", 12},
		{"172.31.255.255/12", "172.16.0.1", 12},
		{"192.168.0.0/255.255.255.0", "192.168.0.1", 24},
		{"10.0.0.0/255.0.0.0", "10.0.0.1", 8},
		{"10.0.0.0/30", "10.0.0.1", 30},
		{"fd00::/64", "fd00::1", 64},
		{"fd00:1:2:3:4:5:6:7/64", "fd00:1:2:3::1", 64},
		{"fd00:1:2:3:4:5:6:7/52", "fd00:1:2::1", 52},
		{"2001:db8::/127", "2001:db8::1", 127},
		{"2001:db8:ffff::/33", "2001:db8:8000::1", 33},
	};
	char host[INET6_ADDRSTRLEN];
	unsigned prefix;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		prefix = 999;
		cr_assert_eq(wg_net_first_host(ok[i].cidr, host, sizeof(host), &prefix), 0, "%s", ok[i].cidr);
		cr_assert_str_eq(host, ok[i].host, "%s", ok[i].cidr);
		cr_assert_eq(prefix, ok[i].prefix, "%s", ok[i].cidr);
	}
}

Test(tun, first_host_rejects_bad_input)
{
	static const char *const bad[] = {
		"", "/24", "10.8.0.0", "10.8.0.0/", "10.8.0.0/0", "10.8.0.0/31", "10.8.0.0/32", "10.8.0.0/33",
		"10.8.0.0/24x", "10.8.0.0/+24", "10.8.0.0/ 24", "10.8.0.0/-1", "10.8.0.0/0024", "10.8.0/24",
		"10.8.0.256/24", "10.8.0.0/255.0.255.0", "10.8.0.0/255.255.255.255", "10.8.0.0/24/8",
		"fd00::/0", "fd00::/128", "fd00::/129", "fd00::g/64", "fd00::/64 ", ":::/64",
		"10.8.0.0/4294967320", "fd00:0000:0000:0000:0000:0000:0000:0000:0000/64",
	};
	char host[INET6_ADDRSTRLEN], small[8];
	unsigned prefix = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(wg_net_first_host(bad[i], host, sizeof(host), &prefix), -1, "accepted \"%s\"", bad[i]);
	cr_assert_eq(prefix, 7, "prefix written on failure");
	cr_assert_eq(wg_net_first_host(NULL, host, sizeof(host), &prefix), -1);
	/* A result that does not fit is an error, not a cut address. */
	cr_assert_eq(wg_net_first_host("192.168.100.0/24", small, sizeof(small), &prefix), -1);

	char longer[600];
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	longer[300] = '/';
	cr_assert_eq(wg_net_first_host(longer, host, sizeof(host), &prefix), -1);
}
