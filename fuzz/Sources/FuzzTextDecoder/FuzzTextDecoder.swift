import FuzzSupport
import ParkLinkProtocol

/// The text (`$…*CRC\r\n`) decoder through `StreamDecoder`, in fuzzed pieces; see
/// `StreamFuzz` for the layout of an input and the invariants checked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTextDecoder(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    StreamFuzz.run(.text, UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
