import Foundation

/// Writes `text` to stdout at once (no buffering: `watch | head` and `status --watch |
/// grep` see each line as it comes). A reader that has gone (the pipe closed) ends the
/// command quietly, as `head` expects of the programs it reads.
func emit(_ text: String) {
    do {
        try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    } catch {
        exit(0)
    }
}
