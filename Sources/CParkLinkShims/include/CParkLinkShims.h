#ifndef PARKLINK_SHIMS_H
#define PARKLINK_SHIMS_H
#include <stddef.h>
#include <sys/types.h>

/* Glibc's Swift module hides these (they need _GNU_SOURCE / _XOPEN_SOURCE); the
   wrappers keep the feature macros out of Swift. Each returns what the C call returns. */
int parklink_posix_openpt(int flags);
int parklink_grantpt(int fd);
int parklink_unlockpt(int fd);
int parklink_ptsname_r(int fd, char *buf, size_t buflen);
int parklink_pthread_setname(const char *name);

int parklink_pipe2(int fds[2], int flags);
int parklink_accept4_cloexec(int fd);
/* SO_PEERCRED: `struct ucred` needs _GNU_SOURCE. 0 on success, -1 with errno. */
int parklink_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/* ioctl is variadic. */
/* TIOCGWINSZ: the terminal's size; 0 on success, -1 with errno. */
int parklink_terminal_size(int fd, unsigned short *rows, unsigned short *columns);
int parklink_ioctl_tiocexcl(int fd);
int parklink_ioctl_tiocnxcl(int fd);
int parklink_ioctl_fionread(int fd, int *count);

/* Custom baud rates (e.g. 250000) via termios2 / BOTHER; 0 on success, -1 with errno. */
int parklink_set_custom_baud(int fd, unsigned int baud);

/* Raises the calling thread's priority: SCHED_FIFO at `fifoPriority` if allowed (returns
   1), else a nice value of `niceValue` for this thread alone (returns 2), else 0. */
int parklink_raise_thread_priority(int fifoPriority, int niceValue);

/* Sets the process' comm name (prctl PR_SET_PDEATHSIG helper for spawned children). */
int parklink_set_parent_death_signal(int signal);
#endif
