import Foundation
import XCTest

/// Golden scenario tests in the etcd-raft datadriven style.
///
/// Each `Tests/RaftCoreTests/testdata/<name>.txt` is a script of `command ---- expected output`
/// blocks run against a `GoldenEnvironment` (real RaftCore members, a manual network). The
/// output of every block must match the file exactly; a mismatch fails with the file, the line
/// and a diff.
///
/// Run:        swift build --build-tests && swift test --skip-build --filter Golden
/// Regenerate: RAFT_GOLDEN_REWRITE=1 swift test --skip-build --filter Golden
///             (rewrites every file with the actual output; review the diff before committing:
///             the output must show correct Raft behaviour, not merely what the code does now)
///
/// Scripts are read from the source tree via `#filePath`, so the test target needs no resources
/// (Package.swift only excludes `testdata` from compilation).
final class GoldenTests: XCTestCase {
    /// Every script in testdata, each run by the test method of the same name.
    static let scripts = [
        "elections", "prevote_checkquorum", "replication_conflicts", "snapshots", "leadership_transfer",
        "learners", "membership_changes", "read_index", "priority",
    ]

    func testElections() { runGolden("elections") }
    func testPrevoteCheckquorum() { runGolden("prevote_checkquorum") }
    func testReplicationConflicts() { runGolden("replication_conflicts") }
    func testSnapshots() { runGolden("snapshots") }
    func testLeadershipTransfer() { runGolden("leadership_transfer") }
    func testLearners() { runGolden("learners") }
    func testMembershipChanges() { runGolden("membership_changes") }
    func testReadIndex() { runGolden("read_index") }
    func testPriority() { runGolden("priority") }

    /// A script added to testdata without a test method would silently never run.
    func testEveryScriptIsRun() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.testdata.path)
            .filter { $0.hasSuffix(".txt") }
            .map { String($0.dropLast(4)) }
        XCTAssertEqual(Set(files), Set(Self.scripts), "testdata scripts and GoldenTests.scripts differ")
    }

    static let testdata = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Golden
        .deletingLastPathComponent()  // RaftCoreTests
        .appendingPathComponent("testdata")

    private var rewriting: Bool { ProcessInfo.processInfo.environment["RAFT_GOLDEN_REWRITE"] == "1" }

    private func runGolden(_ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let url = Self.testdata.appendingPathComponent(name + ".txt")
        let fileName = "Tests/RaftCoreTests/testdata/\(name).txt"
        let script: GoldenScript
        do {
            script = try GoldenScript(parsing: try String(contentsOf: url, encoding: .utf8), name: fileName)
        } catch {
            return XCTFail("\(error)", file: file, line: line)
        }
        let env = GoldenEnvironment()
        var outputs: [[String]] = []
        var mismatches = 0
        for block in script.blocks {
            env.output.reset()
            for command in block.commands where !command.hasPrefix("#") {
                do {
                    try env.execute(command)
                } catch {
                    XCTFail("\(fileName):\(block.line): script error in `\(command)`: \(error)", file: file, line: line)
                    return
                }
            }
            var actual = env.output.lines.isEmpty ? ["ok"] : env.output.lines
            // A blank line would end the block when the file is read back.
            actual = actual.map { $0.isEmpty ? "." : $0 }
            outputs.append(actual)
            if actual != block.expected && !rewriting {
                mismatches += 1
                if mismatches <= 3 {
                    XCTFail(
                        "\(fileName):\(block.line): output of `\(block.commands.joined(separator: "; "))` differs\n"
                            + GoldenDiff.unified(expected: block.expected, actual: actual),
                        file: file, line: line)
                }
            }
        }
        if mismatches > 3 { XCTFail("\(fileName): \(mismatches) blocks differ in all", file: file, line: line) }
        if rewriting {
            do {
                try script.rendered(outputs: outputs).write(to: url, atomically: true, encoding: .utf8)
            } catch {
                XCTFail("cannot rewrite \(fileName): \(error)", file: file, line: line)
            }
        }
    }
}
