// The SSE4.2 `crc32` instruction computes CRC-32C (Castagnoli, reflected) on the same register
// the table-driven Swift code keeps, eight bytes per instruction. Compiled for SSE4.2 only inside
// the function (target attribute), so the binary still starts on a CPU without it; callers check
// `ccrc32c_hardware_available` first.
#include "ccrc32c.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int ccrc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t ccrc32c_update(uint32_t state, const void *bytes, size_t count) {
    const uint8_t *p = (const uint8_t *)bytes;
    uint64_t crc = state;
    // Byte steps to an 8-byte boundary, then 8 bytes per step, then the tail.
    while (count > 0 && ((uintptr_t)p & 7) != 0) {
        crc = _mm_crc32_u8((uint32_t)crc, *p++);
        count--;
    }
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = _mm_crc32_u64(crc, word);
        p += 8;
        count -= 8;
    }
    while (count > 0) {
        crc = _mm_crc32_u8((uint32_t)crc, *p++);
        count--;
    }
    return (uint32_t)crc;
}
#else
int ccrc32c_hardware_available(void) { return 0; }

uint32_t ccrc32c_update(uint32_t state, const void *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return state;
}
#endif
