/// An optional field of the JSON status contract: encoded as `null` when it has no value,
/// never left out.
///
/// Synthesized `Codable` drops the key of a nil optional (`encodeIfPresent`); scripts that
/// read `parklink status --json` or `parklink alerts --json` are promised every key. Mark
/// each optional property of a contract type with it:
///
///     @ExplicitNull public var last_error: String?
///
/// Decoding accepts both a `null` and a missing key as nil.
@propertyWrapper
public struct ExplicitNull<Value> {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }
}

extension ExplicitNull: Sendable where Value: Sendable {}
extension ExplicitNull: Equatable where Value: Equatable {}
extension ExplicitNull: Hashable where Value: Hashable {}

extension ExplicitNull: Encodable where Value: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value = wrappedValue { try c.encode(value) } else { try c.encodeNil() }
    }
}

extension ExplicitNull: Decodable where Value: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = c.decodeNil() ? nil : try c.decode(Value.self)
    }
}

extension KeyedDecodingContainer {
    /// Synthesized `init(from:)` calls this for an `@ExplicitNull` property: a missing key
    /// is nil too, as for a plain optional.
    public func decode<Value: Decodable>(_ type: ExplicitNull<Value>.Type, forKey key: Key) throws -> ExplicitNull<Value> {
        try decodeIfPresent(type, forKey: key) ?? ExplicitNull(wrappedValue: nil)
    }
}
