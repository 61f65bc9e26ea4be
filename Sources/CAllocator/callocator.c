#define _GNU_SOURCE
#include "callocator.h"
#include <dlfcn.h>
#include <jemalloc/jemalloc.h>
#include <sys/types.h>

// Read by jemalloc at its first allocation; MALLOC_CONF in the environment is applied after it,
// so an operator can still change any option. Freed pages go back to the system within about a
// second (a background thread purges them, so no allocating thread pays for it) instead of the
// default ten seconds, and without the intermediate "muzzy" state: the resident set after a burst
// stays near what the node holds (docs/ARCHITECTURE.md, "Memory allocator").
const char *malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";

const char *callocator_version(void) {
    const char *version = NULL;
    size_t length = sizeof(version);
    if (mallctl("version", &version, &length, NULL, 0) != 0) return NULL;
    return version;
}

// Where the dynamic linker's `malloc` (the one every caller in the process gets) is defined.
static bool bound_malloc(Dl_info *info) {
    void *malloc_symbol = dlsym(RTLD_DEFAULT, "malloc");
    return malloc_symbol != NULL && dladdr(malloc_symbol, info) != 0;
}

bool callocator_is_active(void) {
    Dl_info ours, bound;
    if (dladdr((void *)&mallctl, &ours) == 0 || !bound_malloc(&bound)) return false;
    return ours.dli_fbase == bound.dli_fbase;
}

const char *callocator_malloc_library(void) {
    Dl_info bound;
    return bound_malloc(&bound) ? bound.dli_fname : NULL;
}

int callocator_options(long *dirty_decay_ms, long *muzzy_decay_ms, bool *background_thread) {
    ssize_t dirty = 0, muzzy = 0;
    bool background = false;
    size_t length = sizeof(ssize_t);
    if (mallctl("opt.dirty_decay_ms", &dirty, &length, NULL, 0) != 0) return -1;
    length = sizeof(ssize_t);
    if (mallctl("opt.muzzy_decay_ms", &muzzy, &length, NULL, 0) != 0) return -1;
    length = sizeof(bool);
    if (mallctl("background_thread", &background, &length, NULL, 0) != 0) return -1;
    *dirty_decay_ms = (long)dirty;
    *muzzy_decay_ms = (long)muzzy;
    *background_thread = background;
    return 0;
}
