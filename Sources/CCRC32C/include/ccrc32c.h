// CRC-32C with the CPU's own instruction (x86-64 SSE4.2 `crc32`), for Checksums.CRC32C.
#ifndef CCRC32C_H
#define CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the instruction `ccrc32c_update` uses, else 0 (then it must not be called).
int ccrc32c_hardware_available(void);

/// Advances a CRC-32C register (already inverted: start from 0xFFFFFFFF, the checksum is its
/// complement) over `count` bytes. Call only when `ccrc32c_hardware_available()` is 1.
uint32_t ccrc32c_update(uint32_t state, const void *bytes, size_t count);
#endif
