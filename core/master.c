/* The master of several worker processes (see master.h). */
#include "master.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "control/control.h"
#include "control/control_merge.h"
#include "control/control_proto.h"
#include "net/listen_socket.h"
#include "util/log.h"
#include "server.h"
#include "observe/sd_notify.h"
#include "config/server_options.h"
#include "workers/steer.h"
#include "session/period_quota.h"
#include "session/user_count.h"
#include "workers/worker.h"

#define MAX_WORKERS 64
#define STEER_MAX_ADDRESSES (1u << 21) /* per family; entries are allocated on lease */
#define READY_TIMEOUT_MS 60000          /* one worker's set-up: plugins, TLS, TUN */
#define STOP_GRACE_S 10                 /* then SIGKILL */
#define CTL_CLIENT_TIMEOUT_S 5
#define CTL_WORKER_TIMEOUT_S 30         /* a reload loads plugins and scripts */
#define CTL_MAX_ANSWER (64u << 20)      /* a list of 100K sessions is ~50 MB of JSON */

struct master {
	struct wg_conf *conf;
	unsigned n;
	pid_t pid[MAX_WORKERS];
	bool alive[MAX_WORKERS];
	int listen_fd[MAX_WORKERS], udp_fd[MAX_WORKERS];
	struct wg_steer steer;
	struct wg_user_count *user_count; /* shared with every worker */
	struct wg_period_quota *period_quota; /* shared with every worker */
	int ctl_fd;
	const char *ctl_path;
	bool stopping;
	int status;
	time_t stop_started;
};

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe is full: signals are pending already */
	}
	errno = saved;
}

static int set_signals(void (*handler)(int))
{
	struct sigaction sa = {.sa_handler = handler};
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = handler == SIG_DFL ? 0 : SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -1;
	return 0;
}

/* ---- the shared sockets -------------------------------------------------- */

/* Socket i of each group is worker i's: the kernel numbers a group's
 * sockets in the order they join it (bind for UDP, listen for TCP). */
static int open_sockets(struct master *m)
{
	const struct wg_config *c = m->conf->server;
	const char *host = wg_config_string(c, "listen");
	int port = (int)wg_config_int(c, "port"), udp_port = (int)wg_config_int(c, "udp-port");
	struct sockaddr_storage tcp, udp;
	socklen_t tlen, ulen;
	char why[256];

	if (!host)
		host = "0.0.0.0";
	if (wg_listen_addr(host, port, &tcp, &tlen) < 0 || wg_listen_addr(host, udp_port, &udp, &ulen) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "%s: listen: \"%s\" is not an IP address", wg_config_where(c, "listen"), host);
		return -1;
	}
	for (unsigned i = 0; i < m->n; i++) {
		m->listen_fd[i] = wg_listen_socket((struct sockaddr *)&tcp, tlen, SOCK_STREAM, true);
		if (m->listen_fd[i] < 0) {
			wg_log(NULL, WG_LOG_ERROR, "cannot listen on %s port %d: %s", host, port, strerror(-m->listen_fd[i]));
			return -1;
		}
		if (udp_port == 0)
			continue;
		m->udp_fd[i] = wg_listen_socket((struct sockaddr *)&udp, ulen, SOCK_DGRAM, true);
		if (m->udp_fd[i] < 0) {
			wg_log(NULL, WG_LOG_ERROR, "DTLS: cannot bind UDP %s port %d: %s", host, udp_port,
			       strerror(-m->udp_fd[i]));
			return -1;
		}
	}
	if (wg_steer_attach_reuseport(m->listen_fd[0], m->n, why, sizeof(why)) < 0 ||
	    (udp_port && wg_steer_attach_reuseport(m->udp_fd[0], m->n, why, sizeof(why)) < 0)) {
		wg_log(NULL, WG_LOG_ERROR, "workers: %s", why);
		return -1;
	}
	return 0;
}

static void close_sockets(struct master *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (m->listen_fd[i] >= 0)
			close(m->listen_fd[i]);
		if (m->udp_fd[i] >= 0)
			close(m->udp_fd[i]);
		m->listen_fd[i] = m->udp_fd[i] = -1;
	}
}

/* ---- a worker ------------------------------------------------------------ */

static void __attribute__((noreturn)) worker_main(struct master *m, unsigned index, int ready_fd, pid_t master_pid)
{
	char source[24];

	set_signals(SIG_DFL);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	if (m->ctl_fd >= 0)
		close(m->ctl_fd);
	/* Only this worker's sockets stay open here. */
	for (unsigned i = 0; i < m->n; i++) {
		if (i == index)
			continue;
		if (m->listen_fd[i] >= 0)
			close(m->listen_fd[i]);
		if (m->udp_fd[i] >= 0)
			close(m->udp_fd[i]);
	}
	snprintf(source, sizeof(source), "core.w%u", index);
	wg_log_set_core_source(source);
	struct wg_worker w = {
		.index = index,
		.count = m->n,
		.listen_fd = m->listen_fd[index],
		.udp_fd = m->udp_fd[index],
		.steer = &m->steer,
		.user_count = m->user_count,
		.period_quota = m->period_quota,
	};
	wolfSSL_Init();
	struct wg_server *srv = calloc(1, sizeof(*srv));
	int rc = 1;
	if (srv && wg_server_init(srv, m->conf, &w) == 0) {
		/* The master's death ends the worker too (set after the drop, which
		 * clears it); and the master may be gone already. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != master_pid)
			wg_server_stop(srv);
		if (write(ready_fd, "R", 1) != 1)
			wg_server_stop(srv);
		close(ready_fd);
		rc = wg_server_run(srv) == 0 ? 0 : 1;
	} else if (!srv)
		wg_conf_free(m->conf);
	if (srv) {
		wg_server_fini(srv);
		free(srv);
	}
	wolfSSL_Cleanup();
	exit(rc);
}

/* Waits for a started worker to say it is serving. */
static int wait_ready(int fd, pid_t pid, unsigned index)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b = 0;
	int r;

	do
		r = poll(&p, 1, READY_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 1 && read(fd, &b, 1) == 1 && b == 'R')
		return 0;
	wg_log(NULL, WG_LOG_ERROR, "worker %u (pid %d) %s", index, (int)pid,
	       r == 0 ? "did not finish its set-up in time" : "failed to start (see above)");
	return -1;
}

static int start_workers(struct master *m)
{
	pid_t self = getpid();

	for (unsigned i = 0; i < m->n; i++) {
		int ready[2];
		if (pipe2(ready, O_CLOEXEC) < 0)
			return -1;
		pid_t pid = fork();
		if (pid < 0) {
			wg_log(NULL, WG_LOG_ERROR, "cannot fork worker %u: %s", i, strerror(errno));
			close(ready[0]);
			close(ready[1]);
			return -1;
		}
		if (pid == 0) {
			close(ready[0]);
			worker_main(m, i, ready[1], self);
		}
		close(ready[1]);
		m->pid[i] = pid;
		m->alive[i] = true;
		int rc = wait_ready(ready[0], pid, i);
		close(ready[0]);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void signal_workers(struct master *m, int sig)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->alive[i])
			kill(m->pid[i], sig);
}

static bool any_alive(const struct master *m)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->alive[i])
			return true;
	return false;
}

static void begin_stop(struct master *m, int status)
{
	if (!m->stopping) {
		m->stopping = true;
		wg_sd_stopping();
		m->stop_started = time(NULL);
		signal_workers(m, SIGTERM);
	}
	if (status)
		m->status = status;
}

static void reap(struct master *m)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (unsigned i = 0; i < m->n; i++) {
			if (!m->alive[i] || m->pid[i] != pid)
				continue;
			m->alive[i] = false;
			bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
			if (m->stopping && clean)
				break;
			if (WIFSIGNALED(st))
				wg_log(NULL, WG_LOG_ERROR, "worker %u (pid %d) was killed by signal %d%s", i, (int)pid,
				       WTERMSIG(st), m->stopping ? "" : "; stopping the server");
			else
				wg_log(NULL, WG_LOG_ERROR, "worker %u (pid %d) exited with status %d%s", i, (int)pid,
				       WEXITSTATUS(st), m->stopping ? "" : "; stopping the server");
			begin_stop(m, 1);
		}
	}
}

/* ---- the control socket --------------------------------------------------- */

static void set_timeouts(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Worker i's answer to one request, or NULL with the reason in why. */
static json_t *ask_worker(const struct master *m, unsigned i, const char *req, size_t len, char *why, size_t whylen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char *buf = NULL;
	size_t have = 0, cap = 0;
	json_t *answer = NULL;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s%u", m->ctl_path, WG_WORKER_CTL_SUFFIX, i);
	if (fd < 0 || (set_timeouts(fd, CTL_WORKER_TIMEOUT_S), connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) ||
	    write_all(fd, req, len) < 0) {
		snprintf(why, whylen, "worker %u: %s", i, strerror(errno));
		goto out;
	}
	for (;;) {
		if (have + 4096 + 1 > cap) {
			if (cap >= CTL_MAX_ANSWER) {
				snprintf(why, whylen, "worker %u: answer too large", i);
				goto out;
			}
			char *more = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!more) {
				snprintf(why, whylen, "out of memory");
				goto out;
			}
			buf = more;
		}
		ssize_t r = read(fd, buf + have, cap - have - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whylen, "worker %u: %s", i, errno == EAGAIN ? "no answer in time" : strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	json_error_t jerr;
	answer = json_loadb(buf ? buf : "", have, 0, &jerr);
	if (!answer)
		snprintf(why, whylen, "worker %u: unreadable answer: %s", i, jerr.text);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return answer;
}

/* `events` with several workers: a child process subscribes to every
 * worker and copies their lines to the client, whole lines only, until the
 * client or every worker closes; the master goes back to supervising. */
static void __attribute__((noreturn)) relay_events(const struct master *m, int client, const char *req, size_t len)
{
	struct pollfd p[MAX_WORKERS + 1];
	char buf[MAX_WORKERS][8192];
	size_t have[MAX_WORKERS] = {0};
	unsigned open_workers = 0;

	set_signals(SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	if (m->ctl_fd >= 0)
		close(m->ctl_fd);
	set_timeouts(client, 0);
	for (unsigned i = 0; i < m->n; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s%u", m->ctl_path, WG_WORKER_CTL_SUFFIX, i);
		if (fd >= 0 && (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write_all(fd, req, len) < 0)) {
			close(fd);
			fd = -1;
		}
		p[i] = (struct pollfd){.fd = fd, .events = POLLIN};
		open_workers += fd >= 0;
	}
	p[m->n] = (struct pollfd){.fd = client, .events = POLLIN};
	while (open_workers > 0) {
		if (poll(p, m->n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[m->n].revents)
			break; /* the client sent something or hung up: done */
		for (unsigned i = 0; i < m->n; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t r = read(p[i].fd, buf[i] + have[i], sizeof(buf[i]) - have[i]);
			if (r <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_workers--;
				continue;
			}
			have[i] += (size_t)r;
			/* Whole lines only, so lines of two workers never interleave. */
			char *nl = memrchr(buf[i], '\n', have[i]);
			if (!nl) {
				if (have[i] == sizeof(buf[i]))
					have[i] = 0; /* a line longer than the buffer: dropped */
				continue;
			}
			size_t whole = (size_t)(nl - buf[i]) + 1;
			if (write_all(client, buf[i], whole) < 0)
				_exit(0);
			memmove(buf[i], buf[i] + whole, have[i] - whole);
			have[i] -= whole;
		}
	}
	_exit(0);
}

/* systemd learns the whole server is up only once every worker is (the
 * session count is per worker: `wolfguardctl status` sums it). */
static void tell_ready(const struct master *m)
{
	char status[128];

	snprintf(status, sizeof(status), "%u workers serving", m->n);
	wg_sd_ready(status);
}

static json_t *answer_request(const struct master *m, const char *req, size_t len)
{
	struct wg_control_req parsed;
	char why[512];
	json_t *answers[MAX_WORKERS] = {0}, *out = NULL;

	if (wg_control_parse(req, len, &parsed, why, sizeof(why)) < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", why);
	if (parsed.cmd == WG_CTL_RELOAD)
		wg_sd_reloading();
	for (unsigned i = 0; i < m->n && !out; i++) {
		answers[i] = m->alive[i] ? ask_worker(m, i, req, len, why, sizeof(why)) : NULL;
		if (!answers[i])
			out = json_pack("{s:b, s:s}", "ok", 0, "error", m->alive[i] ? why : "a worker is stopping");
	}
	if (!out)
		out = wg_control_merge(parsed.cmd, answers, m->n);
	if (parsed.cmd == WG_CTL_RELOAD) /* every worker has answered: the reload is over */
		tell_ready(m);
	for (unsigned i = 0; i < m->n; i++)
		json_decref(answers[i]);
	return out;
}

/* One request per connection, as a single process serves it. The master
 * waits for the answer: control requests are rare and bounded in time. */
static void serve_control(struct master *m)
{
	int fd = accept4(m->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	char req[WG_CONTROL_MAX_REQUEST + 2];
	size_t len = 0;

	if (fd < 0)
		return;
	set_timeouts(fd, CTL_CLIENT_TIMEOUT_S);
	while (len < sizeof(req) - 2 && !memchr(req, '\n', len)) {
		ssize_t r = read(fd, req + len, sizeof(req) - 2 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	json_t *out;
	if (len == 0) {
		close(fd);
		return;
	}
	if (!memchr(req, '\n', len) && len >= sizeof(req) - 2)
		out = json_pack("{s:b, s:s}", "ok", 0, "error", "request too large");
	else {
		char *nl = memchr(req, '\n', len);
		len = nl ? (size_t)(nl - req) : len;
		req[len++] = '\n';
		struct wg_control_req parsed;
		char why[64];
		if (wg_control_parse(req, len, &parsed, why, sizeof(why)) == 0 && parsed.cmd == WG_CTL_EVENTS) {
			pid_t pid = fork();
			if (pid == 0)
				relay_events(m, fd, req, len);
			if (pid < 0)
				wg_log(NULL, WG_LOG_ERROR, "events: cannot fork the relay: %s", strerror(errno));
			close(fd); /* the relay has its own copy */
			return;
		}
		out = answer_request(m, req, len);
	}
	char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	if (text) {
		if (write_all(fd, text, strlen(text)) == 0)
			write_all(fd, "\n", 1);
		free(text);
	}
	close(fd);
}

/* ---- supervising ----------------------------------------------------------- */

/* Under systemd: the STATUS line with the sessions of all workers, asked
 * the way wolfguardctl status asks, every STATUS_INTERVAL_MS while it changes. */
#define STATUS_INTERVAL_MS 5000

static void tell_status(const struct master *m)
{
	static char last[160];
	static const char req[] = "{\"cmd\":\"status\"}\n";
	char status[160];
	json_t *out = answer_request(m, req, sizeof(req) - 1);
	json_int_t sessions = json_integer_value(json_object_get(out, "sessions"));
	json_int_t unauth = json_integer_value(json_object_get(out, "unauthenticated_connections"));

	if (out && json_is_true(json_object_get(out, "ok"))) {
		snprintf(status, sizeof(status), "%lld session%s, %lld connection%s not logged in, %u workers",
			 (long long)sessions, sessions == 1 ? "" : "s", (long long)unauth, unauth == 1 ? "" : "s", m->n);
		if (strcmp(status, last) != 0) {
			snprintf(last, sizeof(last), "%s", status);
			wg_sd_status(status);
		}
	}
	json_decref(out);
}

static void handle_signals(struct master *m)
{
	unsigned char sigs[64];
	ssize_t n;

	while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
		for (ssize_t k = 0; k < n; k++) {
			if (sigs[k] == SIGCHLD)
				reap(m);
			else if (sigs[k] == SIGHUP) {
				wg_log(NULL, WG_LOG_NOTICE, "SIGHUP: every worker reloads");
				signal_workers(m, SIGHUP);
			} else {
				if (!m->stopping)
					wg_log(NULL, WG_LOG_NOTICE, "%s: stopping %u workers",
					       sigs[k] == SIGINT ? "SIGINT" : "SIGTERM", m->n);
				begin_stop(m, 0);
			}
		}
	}
}

static void supervise(struct master *m)
{
	reap(m); /* a worker may have died during the start */
	while (!m->stopping || any_alive(m)) {
		struct pollfd p[2] = {{.fd = sig_pipe[0], .events = POLLIN}, {.fd = m->ctl_fd, .events = POLLIN}};
		bool status = wg_sd_enabled() && !m->stopping;
		int r = poll(p, m->ctl_fd >= 0 && !m->stopping ? 2 : 1, m->stopping ? 500 : status ? STATUS_INTERVAL_MS : -1);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && status)
			tell_status(m);
		if (r > 0 && p[0].revents)
			handle_signals(m);
		if (r > 0 && m->ctl_fd >= 0 && !m->stopping && p[1].revents)
			serve_control(m);
		if (m->stopping && any_alive(m) && time(NULL) - m->stop_started > STOP_GRACE_S) {
			wg_log(NULL, WG_LOG_ERROR, "workers did not stop within %d s: killing them", STOP_GRACE_S);
			signal_workers(m, SIGKILL);
			m->stop_started = time(NULL);
		}
	}
}

int wg_master_run(struct wg_conf *conf)
{
	struct master m = {.conf = conf, .ctl_fd = -1};
	char why[512];

	m.n = (unsigned)wg_config_int(conf->server, "workers");
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		m.listen_fd[i] = m.udp_fd[i] = -1;
	m.steer.map4 = m.steer.map6 = m.steer.prog = -1;
	const char *dev = wg_config_string(conf->server, "tun-device");
	if (m.n < 2 || m.n > MAX_WORKERS || !dev || strchr(dev, '%')) {
		wg_log(NULL, WG_LOG_ERROR, "%s: workers: needs 2..%d workers and a tun-device name without %%d",
		       wg_config_where(conf->server, "workers"), MAX_WORKERS);
		wg_conf_free(conf);
		return 1;
	}
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || set_signals(on_signal) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "cannot set up signals: %s", strerror(errno));
		wg_conf_free(conf);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	m.ctl_path = wg_config_string(conf->server, "control-socket");
	if (wg_steer_create(&m.steer, m.n, STEER_MAX_ADDRESSES, why, sizeof(why)) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "workers: %s", why);
		m.status = 1;
	} else if (!(m.user_count = wg_user_count_new(wg_user_count_slots(conf->server)))) {
		wg_log(NULL, WG_LOG_ERROR, "workers: cannot map the table of sessions per user");
		m.status = 1;
	} else if (!(m.period_quota = wg_period_quota_new(WG_PERIOD_QUOTA_SLOTS,
							wg_config_string(conf->server, "data-quota-state-file"), why,
							sizeof(why)))) {
		wg_log(NULL, WG_LOG_ERROR, "workers: %s", why);
		m.status = 1;
	} else if (open_sockets(&m) < 0) {
		m.status = 1;
	} else if (m.ctl_path && *m.ctl_path &&
		   (m.ctl_fd = wg_control_listen(m.ctl_path, wg_config_string(conf->server, "control-socket-mode"))) < 0) {
		m.status = 1;
	} else if (start_workers(&m) < 0) {
		m.status = 1;
		begin_stop(&m, 1);
	} else {
		wg_log(NULL, WG_LOG_NOTICE, "%u workers serving (clients steered by source address)", m.n);
		tell_ready(&m);
	}
	/* The workers hold what they need; the master keeps none of it. */
	close_sockets(&m);
	wg_steer_close(&m.steer);
	if (m.status == 0 || m.stopping)
		supervise(&m);
	if (m.ctl_fd >= 0) {
		close(m.ctl_fd);
		unlink(m.ctl_path);
	}
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	wg_user_count_free(m.user_count);
	wg_period_quota_free(m.period_quota);
	wg_conf_free(conf);
	wg_log(NULL, WG_LOG_NOTICE, "stopped (status %d)", m.status);
	return m.status;
}
