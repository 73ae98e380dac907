/* Kernel steering for several workers (core/workers/steer.c): the address map's
 * claims are exclusive across workers, and the client hash the tests and
 * tools use agrees with the one the kernel program computes. BPF needs root
 * (CAP_BPF); without it the map tests are skipped with a message. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>

#include "workers/steer.h"

static struct wg_steer st;
static bool have_bpf;

static void setup(void)
{
	char why[512];

	have_bpf = wg_steer_create(&st, 4, 1024, why, sizeof(why)) == 0;
	if (!have_bpf)
		cr_log_warn("BPF unavailable here (%s): map tests skipped", why);
}

static void teardown(void)
{
	if (have_bpf)
		wg_steer_close(&st);
}

TestSuite(steer, .init = setup, .fini = teardown);

Test(steer, a_claim_is_exclusive_until_released)
{
	uint8_t a[4] = {10, 8, 0, 5};

	if (!have_bpf)
		cr_skip_test("no BPF");
	cr_assert_eq(wg_steer_claim(&st, a, 4, 1), 0);
	cr_assert_eq(wg_steer_claim(&st, a, 4, 2), -EADDRINUSE);
	cr_assert_eq(wg_steer_claim(&st, a, 4, 1), -EADDRINUSE, "not even the holder claims twice");
	wg_steer_release(&st, a, 4, 1);
	cr_assert_eq(wg_steer_claim(&st, a, 4, 2), 0);
}

Test(steer, ipv6_and_ipv4_are_separate)
{
	struct in6_addr a6;
	uint8_t a4[4] = {10, 8, 0, 5};

	if (!have_bpf)
		cr_skip_test("no BPF");
	inet_pton(AF_INET6, "fd00:8::5", &a6);
	cr_assert_eq(wg_steer_claim(&st, a6.s6_addr, 16, 3), 0);
	cr_assert_eq(wg_steer_claim(&st, a4, 4, 0), 0);
	cr_assert_eq(wg_steer_claim(&st, a6.s6_addr, 16, 0), -EADDRINUSE);
	cr_assert_eq(wg_steer_claim(&st, a4, 3, 0), -EINVAL, "a 3-byte address is refused");
}

Test(steer, client_hash_spreads_and_is_stable)
{
	unsigned count[4] = {0};

	for (unsigned i = 0; i < 4096; i++) {
		uint8_t a[4] = {127, 1, (uint8_t)(i >> 8), (uint8_t)i};
		unsigned w = wg_steer_worker_of_client(a, 4, 4);
		cr_assert_lt(w, 4u);
		cr_assert_eq(w, wg_steer_worker_of_client(a, 4, 4));
		count[w]++;
	}
	for (unsigned w = 0; w < 4; w++)
		cr_assert(count[w] > 800 && count[w] < 1250, "worker %u got %u of 4096 neighbouring addresses", w, count[w]);
	/* The documented formula (tests/e2e/tests-workers.sh uses it too). */
	uint8_t cli[4] = {198, 51, 100, 2};
	cr_assert_eq(wg_steer_worker_of_client(cli, 4, 2), ((0xC6336402u * 0x9e3779b1u) >> 16) % 2);
	cr_assert_eq(wg_steer_worker_of_client(cli, 4, 0), 0u);
}

/* A cluster session taken over by another worker (cluster.c at tunnel up):
 * the take wins over the holder's entry, and the old holder's release then
 * leaves the new worker's entry alone. */
Test(steer, a_take_over_survives_the_old_holders_release)
{
	uint8_t a[4] = {10, 8, 0, 9};

	if (!have_bpf)
		cr_skip_test("no BPF");
	cr_assert_eq(wg_steer_claim(&st, a, 4, 0), 0);
	cr_assert_eq(wg_steer_take(&st, a, 4, 1), 0);
	cr_assert_eq(wg_steer_holder(&st, a, 4), 1);
	wg_steer_release(&st, a, 4, 0);
	cr_assert_eq(wg_steer_holder(&st, a, 4), 1, "worker 0's release deleted worker 1's entry");
	cr_assert_eq(wg_steer_claim(&st, a, 4, 0), -EADDRINUSE, "worker 0 may not lease it again");
	wg_steer_release(&st, a, 4, 1);
	cr_assert_eq(wg_steer_holder(&st, a, 4), WG_STEER_NONE);
	cr_assert_eq(wg_steer_take(&st, a, 4, 2), 0, "a take needs no entry to exist");
	wg_steer_release(&st, a, 4, 2);
}
