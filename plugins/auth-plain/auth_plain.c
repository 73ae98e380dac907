/* auth-plain: users from an ocserv-format password file (see ocpasswd.h).
 *
 * The file is read on every login, on a worker thread together with the
 * crypt(3) check, so edits by ocpasswd apply at once and slow hashes
 * (yescrypt, SHA-512) never stall the event loop. An unknown user costs one
 * crypt of a fixed hash, so timing does not tell which users exist. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wolfguard/plugin.h>

#include "ocpasswd.h"

#define MAX_FILE (64u << 20)
/* A valid SHA-512 crypt hash of a random string: the decoy for unknown users. */
#define DECOY_HASH "$6$wolfguarddecoy$Wp1oTzqjKMd4jM1yU0ckH0dqqm6t1dCM6zRkX7J3LxG8yWQx8KkGx5JtNn7Vw7q2kq6u0Vt2mV3n2b1f0Ubq1."

struct plain {
	const struct wg_host *host;
	char *path;
	struct job *jobs; /* in flight; touched on the loop thread only */
};

struct job {
	struct plain *p;
	struct wg_auth *a;       /* NULL once cancelled */
	struct job *next;
	char user[OCPASSWD_FIELD_MAX];
	char password[1024];
	/* results, written by the worker */
	int ok;
	int server_error;        /* the server could not check: not the user's fault */
	const char *reason;
	struct ocpasswd_entry entry;
};

static const struct wg_option options[] = {
	{"password-file", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "ocserv-format password file (ocpasswd)"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct wg_auth_field login_fields[] = {
	{"username", "Username:", WG_FIELD_TEXT},
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static char *read_file(const char *path, size_t *len, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fd < 0) {
		*why = errno == EMFILE || errno == ENFILE ? "password file not opened: out of file descriptors"
							   : "password file unreadable";
		return NULL;
	}
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (size_t)st.st_size > MAX_FILE) {
		close(fd);
		*why = "password file too large or not a file";
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf) {
		*why = "out of memory";
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

static bool hash_matches(const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	bool ok = false;

	if (!cd)
		return false;
	/* crypt_rn (libxcrypt) rather than crypt_r: it returns NULL on error
	 * instead of a "*0" string, and sanitizer runtimes do not intercept it
	 * (their crypt_r interceptor breaks when libcrypt arrives by dlopen). */
	const char *out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	if (out && out[0] != '*' && strlen(out) == strlen(hash)) {
		unsigned char diff = 0;
		for (size_t i = 0; hash[i]; i++)
			diff |= (unsigned char)(out[i] ^ hash[i]);
		ok = diff == 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static void verify_work(void *arg)
{
	struct job *j = arg;
	size_t len = 0;
	unsigned bad = 0;
	const char *why = NULL;
	char *buf = read_file(j->p->path, &len, &why);
	int found;

	if (!buf) {
		j->reason = why;
		j->server_error = 1;
		hash_matches(j->password, DECOY_HASH);
		return;
	}
	found = ocpasswd_find(buf, len, j->user, &j->entry, &bad);
	if (!found || j->entry.locked) {
		/* Cost what a real user costs: the file's own hash settings
		 * (yescrypt is ~10x SHA-512 crypt), so timing does not tell which
		 * users exist. The result is thrown away. */
		char decoy[OCPASSWD_FIELD_MAX];
		hash_matches(j->password, ocpasswd_sample_hash(buf, len, decoy, sizeof(decoy)) ? decoy : DECOY_HASH);
		j->reason = found ? "account locked" : "unknown user";
		free(buf);
		return;
	}
	free(buf);
	j->ok = hash_matches(j->password, j->entry.hash);
	j->reason = j->ok ? NULL : "wrong password";
}

static void unlink_job(struct job *j)
{
	for (struct job **pp = &j->p->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

static void verify_done(void *arg)
{
	struct job *j = arg;
	const struct wg_host *host = j->p->host;

	unlink_job(j);
	if (j->a) {
		if (j->ok) {
			const char *groups[OCPASSWD_MAX_GROUPS + 1];
			for (unsigned i = 0; i < j->entry.n_groups; i++)
				groups[i] = j->entry.groups[i];
			groups[j->entry.n_groups] = NULL;
			host->auth_succeed(j->a, j->entry.user, groups);
		} else {
			host->auth_fail(j->a, j->server_error ? "The server cannot check passwords now; try again later."
							      : "Login failed.",
					j->reason);
		}
	}
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static const struct wg_auth_field password_field[] = {
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

/* After an earlier step of the chain (a certificate, say) named the user,
 * only the password is asked for. */
static void ask(struct plain *p, struct wg_auth *a)
{
	if (p->host->auth_username(a))
		p->host->auth_prompt(a, "Please enter your password.", password_field);
	else
		p->host->auth_prompt(a, "Please enter your username and password.", login_fields);
}

static void start(void *state, struct wg_auth *a)
{
	ask(state, a);
}

static void cont(void *state, struct wg_auth *a)
{
	struct plain *p = state;
	const char *known = p->host->auth_username(a);
	const char *user = known ? known : p->host->auth_field(a, "username");
	const char *password = p->host->auth_field(a, "password");
	struct job *j;

	if (!user || !*user || !password) {
		ask(p, a);
		return;
	}
	if (strlen(user) >= sizeof(j->user) || strlen(password) >= sizeof(j->password) || strchr(user, ':') ||
	    strchr(user, '\n')) {
		p->host->auth_fail(a, "Login failed.", "user name or password too long or malformed");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		p->host->auth_fail(a, "Login failed.", "out of memory");
		return;
	}
	j->p = p;
	j->a = a;
	snprintf(j->user, sizeof(j->user), "%s", user);
	snprintf(j->password, sizeof(j->password), "%s", password);
	j->next = p->jobs;
	p->jobs = j;
	if (p->host->run_blocking(verify_work, verify_done, j) < 0) {
		unlink_job(j);
		free(j);
		p->host->auth_fail(a, "Server busy, try again.", "worker queue full");
	}
}

static void cancel(void *state, struct wg_auth *a)
{
	struct plain *p = state;

	for (struct job *j = p->jobs; j; j = j->next)
		if (j->a == a)
			j->a = NULL; /* the answer will be dropped */
}

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	const char *path = host->config_string(cfg, "password-file");
	struct plain *p;

	if (access(path, R_OK) < 0) {
		snprintf(err, errlen, "%s: password-file: cannot read %s: %s", host->config_where(cfg, "password-file"),
			 path, strerror(errno));
		return -errno;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->path = strdup(path))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	*state = p;
	return 0;
}

static void fini(void *state)
{
	struct plain *p = state;

	/* The host drains its workers before fini: no job is left running. */
	free(p->path);
	free(p);
}

static const struct wg_auth_ops ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = start,
	.cont = cont,
	.cancel = cancel,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "auth-plain",
	.version = "0.1.0",
	.description = "users and groups from an ocserv ocpasswd file, crypt(3) hashes",
	.kind = WG_PLUGIN_AUTH,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};
