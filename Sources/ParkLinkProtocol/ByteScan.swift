/// The byte searches the framing loops spend their time in.
///
/// Inlinable so that each compiles into the caller's loop: a function call per byte
/// would cost more than the comparison it makes.
@usableFromInline
enum ByteScan {
    /// The index of the first `byte` in `base[from..<to]`, or `to`.
    @inlinable
    static func first(_ byte: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Int {
        var i = from
        while i < to && base.load(fromByteOffset: i, as: UInt8.self) != byte {
            i += 1
        }
        return i
    }

    /// The index of the first `a` or `b` in `base[from..<to]`, or `to`.
    @inlinable
    static func first(_ a: UInt8, or b: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Int {
        var i = from
        while i < to {
            let byte = base.load(fromByteOffset: i, as: UInt8.self)
            if byte == a || byte == b { break }
            i += 1
        }
        return i
    }
}
