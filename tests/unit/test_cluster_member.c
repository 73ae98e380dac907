/* Member names of a cluster node's workers (core/cluster/member.c): each
 * worker is a member of its own, its name always unique however long the
 * node's name, and the node part read back for the sum of the other nodes'
 * counts and for wolfguardctl --cluster status. */
#include <criterion/criterion.h>
#include <string.h>

#include "cluster/member.h"

Test(cluster_member, one_worker_is_the_node_itself)
{
	char m[64], node[64];

	cr_assert_eq(wg_cluster_member_name("vpn-a", 0, 1, m, sizeof(m)), 0);
	cr_assert_str_eq(m, "vpn-a");
	cr_assert_eq(wg_cluster_member_workers_node(m, node, sizeof(node)), 0);
	cr_assert_str_eq(node, "", "a single worker shares its node with no other member");
	cr_assert_eq(wg_cluster_member_node_len(m), 5);
}

Test(cluster_member, each_worker_is_a_member)
{
	char m0[64], m1[64], node[64];

	cr_assert_eq(wg_cluster_member_name("vpn-a", 0, 2, m0, sizeof(m0)), 0);
	cr_assert_eq(wg_cluster_member_name("vpn-a", 1, 2, m1, sizeof(m1)), 0);
	cr_assert_str_eq(m0, "vpn-a/w0");
	cr_assert_str_eq(m1, "vpn-a/w1");
	cr_assert_eq(wg_cluster_member_node_len(m1), 5);
	cr_assert_eq(wg_cluster_member_workers_node(m1, node, sizeof(node)), 0);
	cr_assert_str_eq(node, "vpn-a");
	cr_assert_eq(wg_cluster_member_workers_node("vpn-a/west", node, sizeof(node)), 0);
	cr_assert_str_eq(node, "", "vpn-a/west is a node of its own");
}

Test(cluster_member, a_long_node_name_is_shortened_not_the_worker)
{
	char node[200], m3[64], m12[64];

	memset(node, 'x', sizeof(node) - 1);
	node[sizeof(node) - 1] = '\0';
	cr_assert_eq(wg_cluster_member_name(node, 3, 16, m3, sizeof(m3)), 0);
	cr_assert_eq(wg_cluster_member_name(node, 12, 16, m12, sizeof(m12)), 0);
	cr_assert_eq(strlen(m3), sizeof(m3) - 1);
	cr_assert_str_eq(m3 + strlen(m3) - 3, "/w3");
	cr_assert_str_eq(m12 + strlen(m12) - 4, "/w12");
	cr_assert_str_neq(m3, m12);
	cr_assert_eq(wg_cluster_member_name("a", 1, 2, m3, 4), -1, "no room for even a/w1");
}

Test(cluster_member, names_that_only_look_like_workers_are_nodes)
{
	cr_assert_eq(wg_cluster_member_node_len("rack/west"), 9, "w followed by letters");
	cr_assert_eq(wg_cluster_member_node_len("rack/w"), 6, "no digits");
	cr_assert_eq(wg_cluster_member_node_len("/w1"), 3, "no node part");
	cr_assert_eq(wg_cluster_member_node_len("dc/1/w2"), 4);
}
