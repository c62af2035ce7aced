import Foundation

/// Paths in this repository, for tests that run its tools and its built executable.
public enum Repository {
    /// The package root (this file is Tests/ParkLinkTestSupport/Repository.swift).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `parklink` executable `swift build` made for this configuration.
    public static var parklinkExecutable: String {
        let candidates = [Bundle.main.bundlePath, Bundle.main.bundlePath + "/.."].map { $0 + "/parklink" }
            + [root + "/.build/debug/parklink", root + "/.build/release/parklink"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[2]
    }

    /// A fresh, short directory in /tmp (Unix socket paths must stay under 108 bytes).
    public static func temporaryDirectory(_ prefix: String = "pl") -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!
        return String(cString: p)
    }
}
