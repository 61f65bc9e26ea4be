// liblz4's block API (Debian package liblz4-dev). RaftStorage compresses snapshot chunks with it.
#ifndef CLZ4_SHIM_H
#define CLZ4_SHIM_H
#include <lz4.h>
#endif
