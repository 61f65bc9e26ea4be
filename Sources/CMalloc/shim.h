// glibc's allocator controls (malloc_trim), which Swift's Glibc module does not export.
// ClusterNode returns freed heap pages to the system after a snapshot compacts the log.
#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H
#if defined(__linux__)
#include <malloc.h>
#endif
#endif
