import Foundation

/// Where a command writes and what it reads as standard input. The executable uses `standard`;
/// tests pass one that captures the text.
public struct Console: Sendable {
    /// Standard output or standard error.
    public enum Stream: Sendable { case output, error }

    /// Writes `text` as given (callers add the newline).
    public var write: @Sendable (_ text: String, _ stream: Stream) -> Void
    /// The whole of standard input (`events send --file -`).
    public var readInput: @Sendable () throws -> [UInt8]

    public init(write: @escaping @Sendable (String, Stream) -> Void, readInput: @escaping @Sendable () throws -> [UInt8]) {
        self.write = write
        self.readInput = readInput
    }

    /// The process's standard output, error and input.
    public static let standard = Console(
        write: { text, stream in
            let handle = stream == .output ? FileHandle.standardOutput : FileHandle.standardError
            handle.write(Data(text.utf8))
        },
        readInput: { Array(FileHandle.standardInput.readDataToEndOfFile()) })

    /// One line on standard output.
    public func print(_ line: String) { write(line + "\n", .output) }

    /// One line on standard error.
    public func printError(_ line: String) { write(line + "\n", .error) }
}
