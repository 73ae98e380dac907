/* The UDP socket options lib-dtls sets (GSO sends, GRO receives), with their
 * Linux values for C libraries whose headers predate them; the code and its
 * tests include this one header instead of each repeating the fallbacks. */
#ifndef WG_UDP_SOCKOPT_H
#define WG_UDP_SOCKOPT_H

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* Linux 4.18 */
#endif
#ifndef UDP_GRO
#define UDP_GRO 104 /* Linux 5.0 */
#endif

#endif
