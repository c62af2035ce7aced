import Foundation
import ParkLinkDaemon

/// The configuration loader (`ApplianceConfig.parse(text:path:)`, which
/// `ApplianceConfig.load(path:)` uses after reading the file) on any text whatever.
///
/// It must return a configuration or throw a `ConfigError` that names the file, a line
/// that exists (or none), what is wrong and the fix; any other error, or a trap, is a
/// failure.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    do {
        _ = try ApplianceConfig.parse(text: text, path: "fuzz.toml")
    } catch let error as ConfigError {
        let lines = text.utf8.filter { $0 == UInt8(ascii: "\n") }.count + 1
        check(error.file == "fuzz.toml", "the error names \(error.file.debugDescription), not the file: \(error)")
        if let line = error.line {
            check((1...lines).contains(line), "the error names line \(line) of a \(lines)-line file: \(error)")
        }
        check(!error.message.isEmpty && !error.fix.isEmpty, "the error has no message or no fix: \(error)")
    } catch {
        fail("not a ConfigError: \(type(of: error)): \(error)")
    }
    return 0
}

func fail(_ what: String) -> Never {
    fatalError("fuzz invariant violated: \(what)")
}

func check(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fail(what()) }
}
