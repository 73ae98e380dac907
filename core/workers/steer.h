/* Several worker processes, one server: the kernel is told which worker
 * owns what, so every packet reaches the right process without crossing
 * between them.
 *
 * - Clients: each worker has its own TCP listener and UDP socket on the same
 *   ports (SO_REUSEPORT). A classic BPF program picks the socket from a hash
 *   of the client's source address, so a client's TLS connections, its
 *   cookie reconnects and its DTLS datagrams all reach the same worker.
 * - VPN addresses: the TUN device is multi-queue, one queue per worker. An
 *   eBPF steering program looks the packet's destination up in a BPF hash
 *   map (VPN address -> worker) that workers fill as they lease addresses.
 *   The map is also the cross-worker lease table: an insert that finds the
 *   address already there means another worker holds it.
 *
 * The map and programs are made by the root master before the workers fork;
 * workers only update and delete entries. */
#ifndef WG_STEER_H
#define WG_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_steer {
	int map4, map6;  /* BPF hash maps: address -> worker index */
	int prog;        /* the TUN steering program */
	unsigned workers;
};

/* Creates the maps (room for max_entries addresses each) and the TUN
 * steering program. 0, or -1 with a reason. */
int wg_steer_create(struct wg_steer *st, unsigned workers, unsigned max_entries, char *why, size_t whylen);
void wg_steer_close(struct wg_steer *st);

/* Makes the multi-queue TUN device of tun_fd use the steering program. */
int wg_steer_attach_tun(const struct wg_steer *st, int tun_fd, char *why, size_t whylen);

/* Installs, on the SO_REUSEPORT group of fd, the program that picks the
 * group's socket number hash(client source address) % workers. */
int wg_steer_attach_reuseport(int fd, unsigned workers, char *why, size_t whylen);

/* The socket number wg_steer_attach_reuseport's program picks for a client
 * address (4 or 16 bytes, network order): for tests and tools. */
unsigned wg_steer_worker_of_client(const uint8_t *addr, size_t len, unsigned workers);

/* Claims a VPN address (4 or 16 bytes, network order) for worker: 0, or
 * -EADDRINUSE when another worker holds it, or another -errno. */
int wg_steer_claim(const struct wg_steer *st, const uint8_t *addr, size_t len, unsigned worker);
/* Sets the address's entry to worker whatever it held: a session of a
 * cluster taken over from another worker of the same node (or resumed here
 * after one), whose record in Redis says it is this worker's now. 0 or -errno. */
int wg_steer_take(const struct wg_steer *st, const uint8_t *addr, size_t len, unsigned worker);
/* Deletes the entry if it is still worker's (another worker may have taken
 * it over: that one's stays). */
void wg_steer_release(const struct wg_steer *st, const uint8_t *addr, size_t len, unsigned worker);
/* The worker holding the address, or WG_STEER_NONE: for tests and tools. */
#define WG_STEER_NONE 0xffffffffu
unsigned wg_steer_holder(const struct wg_steer *st, const uint8_t *addr, size_t len);

#endif
