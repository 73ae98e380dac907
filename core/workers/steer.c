/* Kernel-side steering for several workers (see steer.h). */
#include "workers/steer.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif
#ifndef TUNSETSTEERINGEBPF
#define TUNSETSTEERINGEBPF _IOR('T', 224, int)
#endif

/* Multiplicative hash of the client address (Knuth's constant): spreads
 * neighbouring addresses over the workers. Shared with the cBPF program. */
#define CLIENT_HASH_MUL 0x9e3779b1u
#define CLIENT_HASH_SHIFT 16

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_new(unsigned key_size, unsigned max_entries)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = key_size;
	a.value_size = sizeof(uint32_t);
	a.max_entries = max_entries;
	/* Entries are allocated as addresses are leased, not all up front. */
	a.map_flags = BPF_F_NO_PREALLOC;
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

/* ---- the TUN steering program (eBPF) ----------------------------------- */

static struct bpf_insn ins(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	return i;
}

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R6 BPF_REG_6
#define FP BPF_REG_10

/* Loads the 32-bit word at packet offset off (converted to host order, as
 * LD_ABS does) into the stack slot at fp+slot. */
static size_t emit_word_to_stack(struct bpf_insn *p, int32_t off, int16_t slot)
{
	p[0] = ins(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, off);
	p[1] = ins(BPF_STX | BPF_MEM | BPF_W, FP, R0, slot, 0);
	return 2;
}

/* r0 = *lookup(map, fp+key_slot) or jump to the miss label: 7 insns. The
 * jump offset is patched by the caller. */
static size_t emit_lookup(struct bpf_insn *p, int map_fd, int16_t key_slot)
{
	p[0] = ins(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_FD, 0, map_fd);
	p[1] = ins(0, 0, 0, 0, 0);
	p[2] = ins(BPF_ALU64 | BPF_MOV | BPF_X, R2, FP, 0, 0);
	p[3] = ins(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, key_slot);
	p[4] = ins(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	p[5] = ins(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 0 /* patched */, 0);
	p[6] = ins(BPF_LDX | BPF_MEM | BPF_W, R0, R0, 0, 0);
	return 7;
}

/* The program returns the worker (queue) that owns the destination address
 * of an IPv4 or IPv6 packet, or 0 when no worker does (worker 0 then drops
 * it, as the single-process server would). The kernel takes the result
 * modulo the number of queues. Map keys are the address as host-order
 * 32-bit words, the way LD_ABS reads them. */
static int prog_new(const struct wg_steer *st, char *log, size_t loglen)
{
	struct bpf_insn p[64];
	size_t n = 0, miss_jumps[2], v6_jump;

	p[n++] = ins(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0); /* LD_ABS wants the skb in r6 */
	p[n++] = ins(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 0);
	p[n++] = ins(BPF_ALU64 | BPF_RSH | BPF_K, R0, 0, 0, 4);
	v6_jump = n;
	p[n++] = ins(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 0 /* patched */, 6);
	size_t not4_jump = n;
	p[n++] = ins(BPF_JMP | BPF_JNE | BPF_K, R0, 0, 0 /* patched */, 4);
	/* IPv4: destination at 16. */
	n += emit_word_to_stack(p + n, 16, -4);
	n += emit_lookup(p + n, st->map4, -4);
	miss_jumps[0] = n - 2;
	p[n++] = ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* IPv6: destination at 24..39. */
	p[v6_jump].off = (int16_t)(n - v6_jump - 1);
	for (int w = 0; w < 4; w++)
		n += emit_word_to_stack(p + n, 24 + 4 * w, (int16_t)(-16 + 4 * w));
	n += emit_lookup(p + n, st->map6, -16);
	miss_jumps[1] = n - 2;
	p[n++] = ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* Not found, or neither IPv4 nor IPv6. */
	size_t miss = n;
	p[not4_jump].off = (int16_t)(miss - not4_jump - 1);
	for (int k = 0; k < 2; k++)
		p[miss_jumps[k]].off = (int16_t)(miss - miss_jumps[k] - 1);
	p[n++] = ins(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
	p[n++] = ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)p;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)loglen;
	a.log_level = 1;
	log[0] = '\0';
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

int wg_steer_create(struct wg_steer *st, unsigned workers, unsigned max_entries, char *why, size_t whylen)
{
	char log[4096];

	memset(st, 0, sizeof(*st));
	st->map4 = st->map6 = st->prog = -1;
	st->workers = workers;
	st->map4 = map_new(4, max_entries);
	st->map6 = st->map4 < 0 ? -1 : map_new(16, max_entries);
	if (st->map4 < 0 || st->map6 < 0) {
		snprintf(why, whylen, "cannot create the BPF address maps: %s (needs root or CAP_BPF)", strerror(errno));
		wg_steer_close(st);
		return -1;
	}
	st->prog = prog_new(st, log, sizeof(log));
	if (st->prog < 0) {
		snprintf(why, whylen, "the kernel refused the TUN steering program: %s%s%.300s", strerror(errno),
			 log[0] ? ": " : "", log);
		wg_steer_close(st);
		return -1;
	}
	return 0;
}

void wg_steer_close(struct wg_steer *st)
{
	if (st->map4 >= 0)
		close(st->map4);
	if (st->map6 >= 0)
		close(st->map6);
	if (st->prog >= 0)
		close(st->prog);
	st->map4 = st->map6 = st->prog = -1;
}

int wg_steer_attach_tun(const struct wg_steer *st, int tun_fd, char *why, size_t whylen)
{
	int fd = st->prog;

	if (ioctl(tun_fd, TUNSETSTEERINGEBPF, &fd) < 0) {
		snprintf(why, whylen, "cannot attach the steering program to the TUN device: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- client steering (classic BPF on the SO_REUSEPORT group) ------------ */

int wg_steer_attach_reuseport(int fd, unsigned workers, char *why, size_t whylen)
{
	/* The program sees the packet after its transport header; SKF_NET_OFF
	 * reaches back to the IP header. IPv4 source at 12; for IPv6 the low
	 * 32 bits of the source (offset 20). */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_NET_OFF + 12)),
		BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_NET_OFF + 20)),
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, CLIENT_HASH_MUL),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, CLIENT_HASH_SHIFT),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, workers),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	if (workers == 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0) {
		snprintf(why, whylen, "cannot attach the client steering program: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Network-order bytes as host-order 32-bit words, the way LD_ABS reads a
 * packet: the map keys (see prog_new) and the client hash's input. */
static void words_of(const uint8_t *addr, size_t len, uint32_t *key)
{
	for (size_t w = 0; w < len / 4; w++)
		key[w] = (uint32_t)addr[4 * w] << 24 | (uint32_t)addr[4 * w + 1] << 16 | (uint32_t)addr[4 * w + 2] << 8 |
			 addr[4 * w + 3];
}

unsigned wg_steer_worker_of_client(const uint8_t *addr, size_t len, unsigned workers)
{
	uint32_t a;

	words_of(len == 16 ? addr + 12 : addr, 4, &a);
	return workers ? ((uint32_t)(a * CLIENT_HASH_MUL) >> CLIENT_HASH_SHIFT) % workers : 0;
}

/* ---- the address table --------------------------------------------------- */

int wg_steer_claim(const struct wg_steer *st, const uint8_t *addr, size_t len, unsigned worker)
{
	uint32_t key[4], value = worker;
	union bpf_attr a;

	if (len != 4 && len != 16)
		return -EINVAL;
	words_of(addr, len, key);
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)(len == 4 ? st->map4 : st->map6);
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)&value;
	a.flags = BPF_NOEXIST; /* atomic: two workers cannot both claim it */
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0)
		return 0;
	return errno == EEXIST ? -EADDRINUSE : -errno;
}

/* The map's key for an address (host-order words), 0 or -EINVAL. */
static int map_key(const struct wg_steer *st, const uint8_t *addr, size_t len, uint32_t key[4], int *map)
{
	if (len != 4 && len != 16)
		return -EINVAL;
	words_of(addr, len, key);
	*map = len == 4 ? st->map4 : st->map6;
	return 0;
}

int wg_steer_take(const struct wg_steer *st, const uint8_t *addr, size_t len, unsigned worker)
{
	uint32_t key[4], value = worker;
	union bpf_attr a;
	int map;

	if (map_key(st, addr, len, key, &map) < 0)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)&value;
	a.flags = BPF_ANY; /* over another worker's entry: its copy is stale */
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0 ? 0 : -errno;
}

/* Lookup, then delete: the kernel has no compare-and-delete for a hash map
 * from user space. A take by another worker between the two would be lost;
 * that needs the session's client to reconnect to the other worker in the
 * same microseconds as this worker's copy ends, and its next tunnel up
 * takes the entry again. */
void wg_steer_release(const struct wg_steer *st, const uint8_t *addr, size_t len, unsigned worker)
{
	uint32_t key[4], value = 0;
	union bpf_attr a;
	int map;

	if (map_key(st, addr, len, key, &map) < 0)
		return;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)&value;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0 || value != worker)
		return; /* gone, or another worker's now */
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uint64_t)(uintptr_t)key;
	sys_bpf(BPF_MAP_DELETE_ELEM, &a);
}

unsigned wg_steer_holder(const struct wg_steer *st, const uint8_t *addr, size_t len)
{
	uint32_t key[4], value = 0;
	union bpf_attr a;
	int map;

	if (map_key(st, addr, len, key, &map) < 0)
		return WG_STEER_NONE;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)&value;
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) == 0 ? value : WG_STEER_NONE;
}
