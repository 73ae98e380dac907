/* Data quota per user and period (period_quota.h). */
#include "session/period_quota.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"
#include "server.h"
#include "session/session.h"
#include "util/log.h"

#define NAME_LEN 128
#define STATE_MAGIC "wolfguard-period-quota 1"

struct slot {
	char name[NAME_LEN]; /* "" : free */
	uint32_t pid;
	uint64_t bytes;
};

struct wg_period_quota {
	pthread_mutex_t lock; /* process-shared */
	size_t mask, used, map_len;
	int fd;               /* the state file, or -1 */
	bool dirty;
	struct slot slots[];
};

static const char *const period_names[] = {"day", "week", "month"};

int wg_period_parse(const char *name)
{
	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, period_names[i]) == 0)
			return i;
	return -1;
}

const char *wg_period_name(int period)
{
	return period >= 0 && period < 3 ? period_names[period] : "?";
}

uint32_t wg_period_id(int period, time_t now)
{
	long days = (long)(now / 86400);
	struct tm tm;

	switch (period) {
	case WG_PERIOD_DAY: return (uint32_t)days;
	case WG_PERIOD_WEEK: return (uint32_t)((days + 3) / 7); /* 1970-01-01 was a Thursday: weeks from Monday */
	default:
		gmtime_r(&now, &tm);
		return (uint32_t)((tm.tm_year + 1900) * 12 + tm.tm_mon);
	}
}

/* FNV-1a, as user_count.c: names come from logins that succeeded. */
static size_t home_of(const struct wg_period_quota *t, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 29)) & t->mask;
}

/* The slot of name, or the free one where it goes, or NULL when full.
 * Names are never removed (a count is kept to the end of its period and
 * beyond, until the slot is needed), so probing needs no tombstones. */
static struct slot *find(struct wg_period_quota *t, const char *name, bool add)
{
	size_t i = home_of(t, name);

	for (size_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];
		if (strcmp(s->name, name) == 0)
			return s;
		if (!s->name[0]) {
			if (!add || t->used + 1 > t->mask) /* one slot stays free: probes end */
				return NULL;
			snprintf(s->name, sizeof(s->name), "%s", name);
			t->used++;
			return s;
		}
	}
	return NULL;
}

static void load(struct wg_period_quota *t, FILE *f)
{
	char line[NAME_LEN + 64], name[NAME_LEN];
	unsigned long pid;
	unsigned long long bytes;

	if (!fgets(line, sizeof(line), f) || strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC)) != 0)
		return;
	/* "PID BYTES NAME": the name last, so it may hold spaces. */
	while (fgets(line, sizeof(line), f)) {
		int at = 0;
		if (sscanf(line, "%lu %llu %n", &pid, &bytes, &at) != 2 || at <= 0)
			continue;
		snprintf(name, sizeof(name), "%s", line + at);
		name[strcspn(name, "\n")] = '\0';
		struct slot *s = name[0] ? find(t, name, true) : NULL;
		if (s) {
			s->pid = (uint32_t)pid;
			s->bytes = bytes;
		}
	}
}

struct wg_period_quota *wg_period_quota_new(size_t slots, const char *state_path, char *err, size_t errlen)
{
	size_t n = 16;
	while (n < slots && n < ((size_t)1 << 20))
		n <<= 1;
	size_t len = sizeof(struct wg_period_quota) + n * sizeof(struct slot);
	struct wg_period_quota *t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t a;

	if (t == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the data quota table: %s", strerror(errno));
		return NULL;
	}
	if (pthread_mutexattr_init(&a) != 0 || pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutex_init(&t->lock, &a) != 0) {
		munmap(t, len);
		snprintf(err, errlen, "cannot make the data quota table's lock");
		return NULL;
	}
	pthread_mutexattr_destroy(&a);
	t->mask = n - 1;
	t->map_len = len;
	t->fd = -1;
	if (state_path && *state_path) {
		t->fd = open(state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		FILE *f = t->fd >= 0 ? fdopen(dup(t->fd), "r") : NULL;
		if (!f) {
			snprintf(err, errlen, "data-quota-state-file: cannot open %s: %s", state_path, strerror(errno));
			wg_period_quota_free(t);
			return NULL;
		}
		load(t, f);
		fclose(f);
		wg_log(NULL, WG_LOG_INFO, "data quota per period: %zu users' counts read from %s", t->used, state_path);
	}
	return t;
}

void wg_period_quota_free(struct wg_period_quota *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	munmap(t, t->map_len);
}

uint64_t wg_period_quota_add(struct wg_period_quota *t, const char *user, uint32_t pid, uint64_t delta)
{
	char name[NAME_LEN];
	uint64_t total = UINT64_MAX;

	snprintf(name, sizeof(name), "%s", user);
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t, name, true);
	if (s) {
		if (s->pid != pid) { /* a new period: the count starts again */
			s->pid = pid;
			s->bytes = 0;
			t->dirty = true;
		}
		s->bytes += delta;
		t->dirty |= delta > 0;
		total = s->bytes;
	}
	pthread_mutex_unlock(&t->lock);
	return total;
}

int wg_period_quota_save(struct wg_period_quota *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int rc = 0;

	if (!t || t->fd < 0)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (!t->dirty || !(m = open_memstream(&buf, &len))) {
		pthread_mutex_unlock(&t->lock);
		return 0;
	}
	fprintf(m, "%s\n", STATE_MAGIC);
	for (size_t i = 0; i <= t->mask; i++)
		if (t->slots[i].name[0])
			fprintf(m, "%" PRIu32 " %" PRIu64 " %s\n", t->slots[i].pid, t->slots[i].bytes, t->slots[i].name);
	fclose(m);
	/* One write from the start, then the rest cut off: a reader (the
	 * next start) sees the whole table or, after a crash in between, a
	 * longer file whose extra lines are old counts, never a torn line
	 * of a name. */
	if (pwrite(t->fd, buf, len, 0) != (ssize_t)len || ftruncate(t->fd, (off_t)len) < 0)
		rc = -errno;
	else
		t->dirty = false;
	pthread_mutex_unlock(&t->lock);
	free(buf);
	return rc;
}
