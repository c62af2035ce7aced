import FuzzSupport
import ParkLinkProtocol

/// The binary (COBS, `0x00`-delimited) decoder through `StreamDecoder`, in fuzzed
/// pieces; see `StreamFuzz` for the layout of an input and the invariants checked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBinaryDecoder(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    StreamFuzz.run(.binary, UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
