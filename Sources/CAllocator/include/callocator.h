// jemalloc, the process's allocator (Debian libjemalloc-dev), and the few of its controls
// ClusterNode uses. Linking this target puts libjemalloc among the executable's libraries ahead
// of libc, so the dynamic linker binds malloc, free and the rest to jemalloc for the whole
// process: Swift's runtime, SwiftNIO and libc's own callers alike.
#ifndef CALLOCATOR_H
#define CALLOCATOR_H
#include <stdbool.h>
#include <stddef.h>

/// jemalloc's version string.
const char *callocator_version(void);

/// Whether the process's `malloc` is jemalloc's: the symbol the dynamic linker bound lies in the
/// same library as jemalloc's `mallctl`. False when something loaded earlier (LD_PRELOAD of
/// another allocator, a link order that put libc first) serves allocations instead.
bool callocator_is_active(void);

/// The file of the library whose `malloc` the dynamic linker bound, or NULL when unknown.
const char *callocator_malloc_library(void);

/// The options jemalloc runs with, as compiled in (`malloc_conf` in callocator.c) and possibly changed
/// by the MALLOC_CONF environment variable: the dirty and muzzy decay times in ms and whether
/// background purging threads are on. Returns 0 on success.
int callocator_options(long *dirty_decay_ms, long *muzzy_decay_ms, bool *background_thread);

#endif
