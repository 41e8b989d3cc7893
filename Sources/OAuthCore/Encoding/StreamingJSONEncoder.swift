import Foundation

/// An `Encoder` that writes RFC 8259 JSON straight into bytes as `encode(to:)` runs, for the portal
/// API's answers (a folder of a thousand files), token responses and JWT claims: Foundation's
/// `JSONEncoder` first builds a tree of boxed values and costs several times more than the database
/// reads behind such an answer. Keys come out in declaration order; `nil` optionals are left out;
/// dates are RFC 3339 in whole seconds (`RFC3339`), as an ISO 8601 `JSONEncoder` writes them.
/// Synthesized `Encodable` conformances are all it needs to support: one container per value, no
/// nested or super encoders.
public enum StreamingJSONEncoder {
    /// The JSON of `value`.
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = ByteEncoder()
        try encoder.write(value)
        return encoder.json.bytes
    }

    /// A JSON object whose members `build` writes one by one, each value encoded in place: for an
    /// envelope around a value (DocSpace's `{"count", "response", …}`) without encoding the value
    /// into bytes of its own first and copying them in.
    public static func object(_ build: (inout ObjectMembers) throws -> Void) throws -> [UInt8] {
        let encoder = ByteEncoder()
        encoder.json.openObject()
        var members = ObjectMembers(encoder: encoder)
        try build(&members)
        encoder.json.close(UInt8(ascii: "}"))
        return encoder.json.bytes
    }

    /// The members of an object being written by `object(_:)`, in the order they are added.
    public struct ObjectMembers {
        fileprivate let encoder: ByteEncoder

        /// `"key": value`, the value encoded as `encode(_:)` would.
        public mutating func add(_ key: String, _ value: some Encodable) throws {
            encoder.json.key(key)
            try encoder.write(value)
        }

        /// `"key": number`.
        public mutating func add(_ key: String, _ number: Int) {
            encoder.json.key(key)
            encoder.json.number(Int64(number))
        }
    }
}

private final class ByteEncoder: Encoder {
    /// Room for a small answer (a profile, a token response, JWT claims) without growing; a folder
    /// listing grows it by doubling.
    var json = JSONWriter(capacity: 512)
    /// The closing brackets of the containers opened and not yet closed.
    var open: [UInt8] = []
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func write<T: Encodable>(_ value: T) throws {
        // Exact type checks (a metadata comparison, folded away where `T` is known) rather than
        // dynamic casts, which every nested object would otherwise go through one by one.
        if T.self == String.self {
            json.string(unsafeBitCast(value, to: String.self))
        } else if T.self == Int.self {
            json.number(Int64(unsafeBitCast(value, to: Int.self)))
        } else if T.self == Int64.self {
            json.number(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Int32.self {
            json.number(Int64(unsafeBitCast(value, to: Int32.self)))
        } else if T.self == Bool.self {
            json.bool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == Double.self {
            let number = unsafeBitCast(value, to: Double.self)
            json.raw(number.isFinite ? "\(number)" : "null")
        } else if T.self == Date.self {
            json.string(RFC3339.string(unsafeBitCast(value, to: Date.self)))
        } else if T.self == URL.self {
            json.string(unsafeBitCast(value, to: URL.self).absoluteString)
        } else if T.self == UInt.self || T.self == UInt64.self || T.self == UInt32.self || T.self == UInt16.self || T.self == UInt8.self
                    || T.self == Int16.self || T.self == Int8.self {
            // The other numbers: their own encode(to:) would come straight back here. Rare, so described.
            json.raw(String(describing: value))
        } else if T.self == Float.self {
            let number = unsafeBitCast(value, to: Float.self)
            json.raw(number.isFinite ? "\(number)" : "null")
        } else if T.self == Data.self || T.self == Decimal.self {
            preconditionFailure("StreamingJSONEncoder does not write \(T.self); answers carry no such field")
        } else {
            let depth = open.count
            try value.encode(to: self)
            while open.count > depth { json.close(open.removeLast()) }
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        json.openObject()
        open.append(UInt8(ascii: "}"))
        return KeyedEncodingContainer(Keyed(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        json.openArray()
        open.append(UInt8(ascii: "]"))
        return Unkeyed(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(encoder: self) }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: ByteEncoder
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil(forKey key: Key) throws {
            encoder.json.key(key.stringValue)
            encoder.json.raw("null")
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            encoder.json.key(key.stringValue)
            try encoder.write(value)
        }

        // The common leaf types, written without the generic path's dynamic casts.
        mutating func encode(_ value: String, forKey key: Key) throws {
            encoder.json.key(key.stringValue)
            encoder.json.string(value)
        }

        mutating func encode(_ value: Int, forKey key: Key) throws {
            encoder.json.key(key.stringValue)
            encoder.json.number(Int64(value))
        }

        mutating func encode(_ value: Int64, forKey key: Key) throws {
            encoder.json.key(key.stringValue)
            encoder.json.number(value)
        }

        mutating func encode(_ value: Bool, forKey key: Key) throws {
            encoder.json.key(key.stringValue)
            encoder.json.bool(value)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            preconditionFailure("StreamingJSONEncoder writes synthesized conformances only")
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            preconditionFailure("StreamingJSONEncoder writes synthesized conformances only")
        }

        mutating func superEncoder() -> any Encoder { encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let encoder: ByteEncoder
        var codingPath: [any CodingKey] { [] }
        var count = 0

        mutating func encodeNil() throws {
            encoder.json.raw("null")
            count += 1
        }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try encoder.write(value)
            count += 1
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            preconditionFailure("StreamingJSONEncoder writes synthesized conformances only")
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            preconditionFailure("StreamingJSONEncoder writes synthesized conformances only")
        }

        mutating func superEncoder() -> any Encoder { encoder }
    }

    struct Single: SingleValueEncodingContainer {
        let encoder: ByteEncoder
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil() throws { encoder.json.raw("null") }
        mutating func encode<T: Encodable>(_ value: T) throws { try encoder.write(value) }
    }
}
