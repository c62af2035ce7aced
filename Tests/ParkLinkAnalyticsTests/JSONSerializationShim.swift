import Foundation

/// Reads a JSON object line back for the tests, without tying them to the encoder.
enum JSONSerializationShim {
    static func object(_ line: String) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }
}
