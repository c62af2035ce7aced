import Foundation
import ParkLinkSystem

/// Where an export or a report goes: standard output or a file, written 64 KiB at a time
/// from one reused buffer (memory stays flat however many rows pass).
///
/// A file is written under a temporary name beside it and renamed into place by
/// `finish`, so a failed or interrupted export never leaves a truncated file that looks
/// complete.
public final class ByteSink {
    private let descriptor: FileDescriptor
    private var buffer: [UInt8] = []
    private let capacity = 65_536
    private let target: String?
    private let temporary: String?
    public private(set) var bytesWritten = 0

    private init(descriptor: FileDescriptor, target: String?, temporary: String?) {
        self.descriptor = descriptor
        self.target = target
        self.temporary = temporary
        buffer.reserveCapacity(capacity + 4_096)
    }

    public static func standardOutput() -> ByteSink {
        ByteSink(descriptor: FileDescriptor(adopting: 1, label: "standard output"), target: nil, temporary: nil)
    }

    /// A new file at `path` (replacing one that exists, once `finish` succeeds).
    public static func file(_ path: String) throws -> ByteSink {
        let absolute = FileSystem.absolutePath(path)
        let temporary = absolute + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        let fd = try FileDescriptor.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o640)
        return ByteSink(descriptor: fd, target: absolute, temporary: temporary)
    }

    @inline(__always)
    public func append(_ byte: UInt8) throws {
        buffer.append(byte)
        if buffer.count >= capacity { try flush() }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    public func append(_ text: String) throws {
        var t = text
        try t.withUTF8 { try append(UnsafeRawBufferPointer($0)) }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try descriptor.writeAll($0) }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes; a file is made durable and renamed into place.
    public func finish() throws {
        try flush()
        guard let target, let temporary else { return }
        try descriptor.syncData()
        descriptor.close()
        try FileSystem.rename(temporary, to: target)
        FileSystem.syncDirectory(FileSystem.directoryName(target))
    }

    /// Gives up: a file's temporary copy is removed.
    public func abandon() {
        guard let temporary else { return }
        descriptor.close()
        try? FileSystem.remove(temporary)
    }
}

/// RFC 4180 fields: a field holding a comma, a double quote, CR or LF is quoted, its
/// quotes doubled; records end with CRLF. SQL NULL is an empty field.
public enum CSVText {
    public static func append(field bytes: UnsafeRawBufferPointer?, to out: ByteSink) throws {
        guard let bytes else { return }
        let special = bytes.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0D || $0 == 0x0A }
        guard special else { return try out.append(bytes) }
        try out.append(0x22)
        for b in bytes {
            if b == 0x22 { try out.append(0x22) }
            try out.append(b)
        }
        try out.append(0x22)
    }

    public static func append(field text: String?, to out: ByteSink) throws {
        guard var t = text else { return }
        try t.withUTF8 { try append(field: UnsafeRawBufferPointer($0), to: out) }
    }

    public static func endRecord(_ out: ByteSink) throws {
        try out.append(0x0D)
        try out.append(0x0A)
    }
}

/// JSON string literals from UTF-8 bytes (RFC 8259 escapes; the bytes are the server's
/// utf8mb4 text, passed through).
public enum JSONText {
    private static let hex = Array("0123456789abcdef".utf8)

    public static func append(string bytes: UnsafeRawBufferPointer, to out: ByteSink) throws {
        try out.append(0x22)
        for b in bytes {
            switch b {
            case 0x22: try out.append(0x5C); try out.append(0x22)
            case 0x5C: try out.append(0x5C); try out.append(0x5C)
            case 0x0A: try out.append(0x5C); try out.append(0x6E)
            case 0x0D: try out.append(0x5C); try out.append(0x72)
            case 0x09: try out.append(0x5C); try out.append(0x74)
            case 0..<0x20:
                try out.append("\\u00")
                try out.append(hex[Int(b >> 4)])
                try out.append(hex[Int(b & 15)])
            default: try out.append(b)
            }
        }
        try out.append(0x22)
    }

    public static func append(string text: String, to out: ByteSink) throws {
        var t = text
        try t.withUTF8 { try append(string: UnsafeRawBufferPointer($0), to: out) }
    }
}
