// Per-thread name and scheduling priority on Linux, which Swift's Glibc module does not export
// (pthread_setname_np and gettid need _GNU_SOURCE). ClusterNode's snapshot thread
// uses them. _GNU_SOURCE itself is not defined here: headers included under it define types
// differently from the Glibc module's, and clang refuses the two modules together; the few
// declarations needed are written out instead.
#ifndef CTHREAD_SHIM_H
#define CTHREAD_SHIM_H
#if defined(__linux__)
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

extern int pthread_setname_np(pthread_t thread, const char *name);

/// Names the calling thread (as `top -H` and /proc/<pid>/task/<tid>/comm show it); at most 15
/// bytes are kept. Returns 0 or an errno value.
static inline int cthread_set_name(const char *name) {
    char truncated[16];
    int i = 0;
    for (; i < 15 && name[i] != 0; i++) truncated[i] = name[i];
    truncated[i] = 0;
    return pthread_setname_np(pthread_self(), truncated);
}

/// Sets the nice value of the calling thread only (on Linux, PRIO_PROCESS with a thread id
/// applies to that thread). Raising it needs no privilege; lowering it back does. Returns 0 or -1
/// with errno set.
static inline int cthread_set_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

#endif
#endif
