#include "confine/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int wg_privdrop(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr = NULL;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "user \"%s\" does not exist (create it, e.g. useradd --system %s, or set server.user)",
			 user, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user \"%s\" is root: the network-facing process must not run as root "
			 "(set server.sandbox to \"off\" to run everything as root)", user);
		return -1;
	}
	if (group && *group) {
		gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "group \"%s\" does not exist", group);
			return -1;
		}
	}
	gid = gr ? gr->gr_gid : pw->pw_gid;
	/* glibc applies set*id to every thread (the worker pool runs already). */
	if (initgroups(pw->pw_name, gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		snprintf(err, errlen, "cannot switch to %s:%s: %s", user, gr ? gr->gr_name : "(its group)", strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "root could be regained after switching to %s", user);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer inspects the threads with ptrace at exit, which the
	 * credential change forbade; sanitizer builds are for tests only. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}
