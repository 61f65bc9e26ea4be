import CAllocator

/// The process's memory allocator: jemalloc, linked through `CAllocator` (Debian
/// libjemalloc-dev).
///
/// A node allocates and frees millions of small blocks a second on several threads (events,
/// commands, log entries, answers), frees them on other threads than the ones that made them
/// (the log's entries on the cleanup queue after compaction), and holds tens of megabytes of
/// state that snapshots copy. glibc's allocator slowed down as that state grew: at about 25,000
/// open incidents `_int_malloc` was the hottest function of the consensus loops and allocation
/// 8.5 % of the machine. jemalloc's per-thread caches and size classes keep the cost flat;
/// at that state the p99 at 10,000 events/s fell by about a third, and the resident set after
/// issue #7's memory load is lower (docs/BENCHMARKS.md, fifteenth pass).
///
/// Its options are compiled in (`malloc_conf` in `callocator.c`): freed pages are returned to
/// the system after about a second by a background thread. `MALLOC_CONF` in the environment
/// overrides them.
public enum Allocator {
    /// What serves the process's allocations, for the startup log: jemalloc's version and
    /// options, or why it is not jemalloc.
    public static var description: String {
        guard isJemalloc, let version = callocator_version() else {
            let library = callocator_malloc_library().map { String(cString: $0) } ?? "an unknown library"
            return "malloc is served by \(library), not by the linked jemalloc (an LD_PRELOAD of another allocator?)"
        }
        guard let options else { return "jemalloc \(String(cString: version))" }
        return "jemalloc \(String(cString: version)) (dirty_decay_ms \(options.dirtyDecayMilliseconds), "
            + "muzzy_decay_ms \(options.muzzyDecayMilliseconds), background_thread \(options.backgroundThread))"
    }

    /// Whether the dynamic linker bound the process's `malloc` to jemalloc.
    public static var isJemalloc: Bool { callocator_is_active() }

    public struct Options: Sendable {
        public var dirtyDecayMilliseconds: Int
        public var muzzyDecayMilliseconds: Int
        public var backgroundThread: Bool
    }

    /// The options jemalloc runs with, or nil when it cannot be asked.
    public static var options: Options? {
        var dirty = 0
        var muzzy = 0
        var background = false
        guard callocator_options(&dirty, &muzzy, &background) == 0 else { return nil }
        return Options(dirtyDecayMilliseconds: dirty, muzzyDecayMilliseconds: muzzy, backgroundThread: background)
    }
}
