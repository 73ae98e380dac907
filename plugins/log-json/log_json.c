/* log-json: one JSON object per line, appended to a file. The file is
 * reopened when logrotate has moved it away (its inode changed or it is
 * gone), so no signal or copytruncate is needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wolfguard/plugin.h>

#include "../common/json_line.h"

struct log_json {
	const struct wg_host *host;
	char *path;     /* owned */
	int fd;         /* -1 while the file cannot be opened */
	dev_t dev;      /* identity of the file fd refers to */
	ino_t ino;
	int level;
	bool reported;  /* an open failure was already reported (once per outage) */
};

static int open_log(struct log_json *st)
{
	/* Through the host when it can: after the privilege drop the log
	 * directory is usually not writable, and the host's privileged helper
	 * reopens the file after rotation. */
	int fd = WG_HOST_HAS(st->host, open_append)
			 ? st->host->open_append(st->path)
			 : open(st->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0 && WG_HOST_HAS(st->host, open_append)) {
		errno = -fd;
		fd = -1;
	}
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (st->fd >= 0)
		close(st->fd);
	st->fd = fd;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	return 0;
}

/* Reopens when the path no longer names the file we hold open. */
static void follow_rotation(struct log_json *st)
{
	struct stat sb;
	if (st->fd >= 0 && stat(st->path, &sb) == 0 && sb.st_dev == st->dev && sb.st_ino == st->ino)
		return;
	int rc = open_log(st);
	if (rc == 0) {
		st->reported = false;
	} else if (!st->reported) {
		st->reported = true;
		/* The host sends a log sink's own lines to stderr, not back here. */
		st->host->log(NULL, WG_LOG_ERROR, "log-json: cannot open %s: %s", st->path, strerror(-rc));
	}
}

static void log_write(void *state, const struct wg_log_record *r)
{
	struct log_json *st = state;
	if (r->level > st->level)
		return;
	follow_rotation(st);
	if (st->fd < 0)
		return;
	char buf[JSON_LINE_MAX + 3];
	size_t len = json_line_format(buf, sizeof(buf), r);
	/* One write() with O_APPEND: a whole line, never interleaved. */
	ssize_t w;
	do
		w = write(st->fd, buf, len);
	while (w < 0 && errno == EINTR);
}

static int log_init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err,
		    size_t errlen)
{
	const char *level = host->config_string(cfg, "level");
	int lv = json_line_level_from_name(level);
	if (lv < 0) {
		snprintf(err, errlen, "%s: level: \"%s\" is not one of error, warn, notice, info, debug",
			 host->config_where(cfg, "level"), level);
		return -EINVAL;
	}
	struct log_json *st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(host->config_string(cfg, "path")))) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	st->host = host;
	st->fd = -1;
	st->level = lv;
	int rc = open_log(st);
	if (rc < 0) {
		snprintf(err, errlen, "%s: path: cannot open %s: %s", host->config_where(cfg, "path"),
			 st->path, strerror(-rc));
		free(st->path);
		free(st);
		return rc;
	}
	*state = st;
	return 0;
}

static void log_fini(void *state)
{
	struct log_json *st = state;
	if (st->fd >= 0)
		close(st->fd);
	free(st->path);
	free(st);
}

static const struct wg_option log_options[] = {
	{"path", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "file the JSON lines are appended to (created 0640)"},
	{"level", WG_OPT_STRING, 0, 0, 0, "info", "lowest level written: error, warn, notice, info or debug"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct wg_log_ops log_ops = {
	.struct_size = sizeof(struct wg_log_ops),
	.write = log_write,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "log-json",
	.version = "1.0.0",
	.description = "log lines as JSON objects appended to a file",
	.kind = WG_PLUGIN_LOG,
	.options = log_options,
	.init = log_init,
	.fini = log_fini,
	.ops = &log_ops,
};
