/* Opens a TUN device (no packet information header: the tunnel carries
 * bare IP packets, as CSTP and DTLS do). The vpnc-script configures it. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int wgc_tun_open(char *name, size_t namelen)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		wgc_log("cannot open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (name[0])
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		wgc_log("cannot create TUN device %s: %s", name[0] ? name : "tunN", strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(name, namelen, "%s", ifr.ifr_name);
	return fd;
}
