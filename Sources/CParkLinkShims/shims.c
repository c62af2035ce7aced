#define _GNU_SOURCE
#include "CParkLinkShims.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sched.h>
#include <unistd.h>
#include <asm/termbits.h>

int parklink_posix_openpt(int flags) { return posix_openpt(flags); }
int parklink_grantpt(int fd) { return grantpt(fd); }
int parklink_unlockpt(int fd) { return unlockpt(fd); }
int parklink_ptsname_r(int fd, char *buf, size_t buflen) { return ptsname_r(fd, buf, buflen); }

int parklink_pthread_setname(const char *name) {
    char shortName[16];
    strncpy(shortName, name, sizeof shortName - 1);
    shortName[sizeof shortName - 1] = 0;
    return pthread_setname_np(pthread_self(), shortName);
}

int parklink_ioctl_tiocexcl(int fd) { return ioctl(fd, TIOCEXCL); }
int parklink_ioctl_tiocnxcl(int fd) { return ioctl(fd, TIOCNXCL); }
int parklink_ioctl_fionread(int fd, int *count) { return ioctl(fd, FIONREAD, count); }

int parklink_terminal_size(int fd, unsigned short *rows, unsigned short *columns) {
    struct winsize w;
    if (ioctl(fd, TIOCGWINSZ, &w) != 0) return -1;
    *rows = w.ws_row;
    *columns = w.ws_col;
    return 0;
}

int parklink_set_custom_baud(int fd, unsigned int baud) {
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0) return -1;
    t.c_cflag &= ~CBAUD;
    t.c_cflag |= BOTHER;
    t.c_ispeed = baud;
    t.c_ospeed = baud;
    return ioctl(fd, TCSETS2, &t);
}

int parklink_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, signal); }

int parklink_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int parklink_accept4_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }

int parklink_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int parklink_raise_thread_priority(int fifoPriority, int niceValue) {
    struct sched_param p;
    memset(&p, 0, sizeof p);
    p.sched_priority = fifoPriority;
    if (fifoPriority > 0 && pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0) return 1;
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), niceValue) == 0) return 2;
    return 0;
}
