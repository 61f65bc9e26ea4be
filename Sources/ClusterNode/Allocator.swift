import CMalloc

/// Process-wide allocator settings for a long-running node; call once at startup.
///
/// glibc serves allocations above its mmap threshold with their own mappings, returned to the
/// system when freed, but raises that threshold to the size of every such block freed (up to
/// 32 MiB). After the first snapshot (buffers of tens of megabytes) every buffer below 32 MiB —
/// snapshot chunks, compression output, large batches — would then come from the heaps and leave
/// holes there. A fixed 1 MiB threshold keeps them out: after issue #7's memory load
/// (`cluster/bench-memory.sh`), 267–287 MB per node instead of 287–306 MB.
public func configureAllocator() {
    #if canImport(Glibc)
    _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
    #endif
}

/// Returns the free pages of the allocator's heaps to the system.
func releaseFreedMemory() {
    #if canImport(Glibc)
    _ = malloc_trim(0)
    #endif
}
