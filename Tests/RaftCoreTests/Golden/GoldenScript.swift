import Foundation

/// A golden script in the etcd/cockroachdb "datadriven" layout:
///
///     # comments and blank lines
///     command arg key=value key=(1,2,3)
///     another-command          <- a block may hold several commands; their outputs are joined
///     ----
///     expected output (never contains a blank line; "ok" when a command prints nothing)
///
/// Blocks are separated by at least one blank line. Everything outside the command lines and
/// expected outputs (comments, spacing) is kept verbatim when the file is rewritten.
struct GoldenScript {
    /// One `command ---- output` block.
    struct Block {
        /// Comment and blank lines before the block, verbatim.
        var leading: [String]
        /// 1-based line of the first command line.
        var line: Int
        var commands: [String]
        var expected: [String]
    }

    var blocks: [Block]
    /// Lines after the last block, verbatim.
    var trailing: [String]

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    init(parsing text: String, name: String) throws(ParseError) {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var blocks: [Block] = []
        var pending: [String] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") {
                pending.append(line)
                i += 1
                continue
            }
            let start = i
            var commands: [String] = []
            while i < lines.count, lines[i] != "----" {
                guard !lines[i].trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ParseError(description: "\(name):\(start + 1): block has no ---- separator")
                }
                commands.append(lines[i])  // "#" lines inside a block are kept and skipped when run
                i += 1
            }
            guard i < lines.count else { throw ParseError(description: "\(name):\(start + 1): block has no ---- separator") }
            i += 1  // skip ----
            var expected: [String] = []
            while i < lines.count, !lines[i].isEmpty {
                expected.append(lines[i])
                i += 1
            }
            blocks.append(Block(leading: pending, line: start + 1, commands: commands, expected: expected))
            pending = []
        }
        self.blocks = blocks
        trailing = pending
    }

    /// The file with every block's expected output replaced by `outputs` (same order).
    func rendered(outputs: [[String]]) -> String {
        precondition(outputs.count == blocks.count, "one output per block")
        var out: [String] = []
        for (block, output) in zip(blocks, outputs) {
            out.append(contentsOf: block.leading)
            out.append(contentsOf: block.commands)
            out.append("----")
            out.append(contentsOf: output)
            // The blank line that ended the block is part of the next block's `leading`.
        }
        out.append(contentsOf: trailing)
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }
}

/// A small line diff (longest common subsequence) for mismatch reports.
enum GoldenDiff {
    static func unified(expected: [String], actual: [String]) -> String {
        let n = expected.count
        let m = actual.count
        // lcs[i][j]: length of the LCS of expected[i...] and actual[j...].
        var lcs = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] = expected[i] == actual[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var lines: [String] = ["--- expected", "+++ actual"]
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n, j < m, expected[i] == actual[j] {
                lines.append("  " + expected[i])
                i += 1
                j += 1
            } else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] {
                lines.append("- " + expected[i])
                i += 1
            } else {
                lines.append("+ " + actual[j])
                j += 1
            }
        }
        return lines.joined(separator: "\n")
    }
}
