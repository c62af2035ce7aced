/// Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999).
///
/// The binary encoding stuffs every frame so that it holds no 0x00 and can end with one:
/// a receiver that joins mid-stream, or loses a byte, is back in step at the next 0x00,
/// whatever the payloads hold, for at most one byte of overhead per 254.
///
/// The delimiter is not part of the encoding: `encode` does not write it and `decode`
/// must not be given it.
public enum COBS {
    /// The most bytes `encode` writes for `count` input bytes.
    public static func maxEncodedCount(_ count: Int) -> Int {
        count + count / 254 + 1
    }

    /// Appends the encoding of `bytes` to `output`.
    ///
    /// A final run of exactly 254 non-zero bytes gets no trailing `0x01` group: the
    /// shortest form, which every COBS decoder (this one included) reads the same way.
    public static func encode(_ bytes: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        output.reserveCapacity(output.count + maxEncodedCount(bytes.count))
        var codeIndex = output.count
        output.append(0)
        var code: UInt8 = 1
        let last = bytes.count - 1
        for (k, byte) in bytes.enumerated() {
            if byte != 0 {
                output.append(byte)
                code += 1
            }
            if byte == 0 || code == 0xFF {
                output[codeIndex] = code
                code = 1
                if byte == 0 || k < last {
                    codeIndex = output.count
                    output.append(0)
                } else {
                    return
                }
            }
        }
        output[codeIndex] = code
    }

    /// The encoding of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        bytes.withUnsafeBytes { encode($0, appendingTo: &output) }
        return output
    }

    /// Decodes one frame into `output` and returns the decoded length, or `nil` when
    /// `encoded` is not a COBS encoding: empty, a zero byte anywhere, or a run that claims
    /// more bytes than the frame has (a frame cut short).
    ///
    /// Decoding never lengthens: `output` needs `encoded.count - 1` bytes at most.
    public static func decode(
        _ encoded: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let n = encoded.count
        guard n > 0, let src = encoded.baseAddress else { return nil }
        precondition(output.count >= n - 1, "COBS.decode: output buffer too small")
        guard let dst = output.baseAddress else { return n == 1 && src.load(as: UInt8.self) == 1 ? 0 : nil }
        var r = 0
        var w = 0
        while r < n {
            let code = Int(src.load(fromByteOffset: r, as: UInt8.self))
            guard code != 0 else { return nil }
            r += 1
            let runEnd = r + code - 1
            guard runEnd <= n else { return nil }
            while r < runEnd {
                let byte = src.load(fromByteOffset: r, as: UInt8.self)
                guard byte != 0 else { return nil }
                dst.storeBytes(of: byte, toByteOffset: w, as: UInt8.self)
                w += 1
                r += 1
            }
            if code != 0xFF && r < n {
                dst.storeBytes(of: 0, toByteOffset: w, as: UInt8.self)
                w += 1
            }
        }
        return w
    }

    /// The decoding of `encoded`, or `nil` when it is not a COBS encoding.
    public static func decode(_ encoded: [UInt8]) -> [UInt8]? {
        guard !encoded.isEmpty else { return nil }
        var output = [UInt8](repeating: 0, count: encoded.count)
        let count = encoded.withUnsafeBytes { src in
            output.withUnsafeMutableBytes { decode(src, into: $0) }
        }
        guard let count else { return nil }
        output.removeLast(output.count - count)
        return output
    }
}
