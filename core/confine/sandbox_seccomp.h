/* The system calls the server may make once it serves clients: a seccomp
 * allow-list (libseccomp) installed on every thread after the set-up and the
 * privilege drop. */
#ifndef WG_SANDBOX_SECCOMP_H
#define WG_SANDBOX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

/* log_only: a call outside the list is allowed and recorded by the kernel
 * (audit/dmesg: "type=1326 ... syscall=N"); otherwise the process is
 * stopped, after a line naming the call's number on stderr. Returns 0, or
 * -1 with the reason in err. bpf_map_updates: also allow bpf() map updates
 * and deletes (a worker of several, steer.h). */
int wg_sandbox_install(bool log_only, bool bpf_map_updates, char *err, size_t errlen);

#endif
