import ClusterNode
import Locking
import XCTest

/// The process allocates with jemalloc, linked through `CAllocator`, with the options compiled
/// into `callocator.c`. This test process links ClusterNode the way `incidentd` does;
/// `StartupTests.testTheNodeReportsJemallocAsItsAllocator` checks the real binary.
final class AllocatorTests: XCTestCase {
    func testMallocIsJemalloc() throws {
        // ThreadSanitizer's runtime serves malloc itself, ahead of any allocator the process links.
        try XCTSkipIf(ThreadSanitizer.isActive, "under ThreadSanitizer, whose runtime replaces malloc")
        XCTAssertTrue(Allocator.isJemalloc, Allocator.description)
        XCTAssertTrue(Allocator.description.hasPrefix("jemalloc 5."), Allocator.description)
    }

    func testTheCompiledOptionsApply() throws {
        let options = try XCTUnwrap(Allocator.options)
        // MALLOC_CONF in the environment overrides them (StartupTests checks that on incidentd).
        if ProcessInfo.processInfo.environment["MALLOC_CONF"] == nil {
            XCTAssertEqual(options.dirtyDecayMilliseconds, 1_000)
            XCTAssertEqual(options.muzzyDecayMilliseconds, 0)
            XCTAssertTrue(options.backgroundThread)
        }
    }
}
