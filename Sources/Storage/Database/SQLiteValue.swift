import Foundation
import NIOCore
import NIOFoundationCompat

/// One SQLite value (SQLite "Datatypes In SQLite" §2: the five storage classes), as bound to a
/// statement and read from a row.
enum SQLiteValue: Equatable, Sendable {
    case integer(Int64)
    case float(Double)
    case text(String)
    case blob(ByteBuffer)
    case null

    /// The value SQLKit hands over as a bind, as SQLite stores it: integers and booleans as INTEGER,
    /// floating point as REAL, strings as TEXT, bytes as BLOB, `nil` as NULL, and anything with
    /// structure (arrays, dictionaries, other `Codable` types) as its JSON text.
    init(encoding value: any Encodable) throws {
        if let simple = Self.simple(value) {
            self = simple
            return
        }
        let encoder = SingleValueEncoder()
        do {
            try value.encode(to: encoder)
            // Nothing encoded: an empty array, dictionary or struct asked for a container and put
            // nothing in it. It is JSON too (`[]`, `{}`), never NULL.
            guard let encoded = encoder.value else { throw NeedsJSON() }
            self = encoded
        } catch is NeedsJSON {
            self = .text(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
        }
    }

    /// The values repositories bind on every request, without going through an `Encoder`.
    fileprivate static func simple(_ value: Any) -> SQLiteValue? {
        // Only a real [UInt8] is bytes: an empty array of anything casts to [UInt8] too.
        if type(of: value) == [UInt8].self, let bytes = value as? [UInt8] { return .blob(ByteBuffer(bytes: bytes)) }
        return switch value {
        case let text as String: .text(text)
        case let number as Int: .integer(Int64(number))
        case let number as Int64: .integer(number)
        case let number as Int32: .integer(Int64(number))
        case let number as Int16: .integer(Int64(number))
        case let number as Int8: .integer(Int64(number))
        case let number as UInt8: .integer(Int64(number))
        case let number as UInt16: .integer(Int64(number))
        case let number as UInt32: .integer(Int64(number))
        case let flag as Bool: .integer(flag ? 1 : 0)
        case let number as Double: .float(number)
        case let number as Float: .float(Double(number))
        case let bytes as Data: .blob(ByteBuffer(data: bytes))
        case let bytes as ByteBuffer: .blob(bytes)
        case let date as Date: .float(date.timeIntervalSince1970)
        case let id as UUID: .text(id.uuidString)
        default: nil
        }
    }

    /// Reads this value as `type`: the fast paths of `SQLiteSessionRow.decode`, then any `Decodable`
    /// that is one value, then JSON text for structured types (as `init(encoding:)` stored them).
    func decode<D: Decodable>(_ type: D.Type) throws -> D {
        do {
            return try SingleValueDecoder(value: self).decode(D.self)
        } catch is NeedsJSON {
            switch self {
            case .text(let text): return try JSONDecoder().decode(D.self, from: Data(text.utf8))
            case .blob(let bytes): return try JSONDecoder().decode(D.self, from: Data(buffer: bytes))
            default: throw Self.mismatch(D.self, self)
            }
        }
    }

    static func mismatch(_ type: Any.Type, _ value: SQLiteValue) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: [], debugDescription: "cannot read \(type) from the SQLite value \(value)"))
    }

    /// TEXT as a string; INTEGER and REAL as their decimal text (SQLite's own conversion).
    var string: String? {
        switch self {
        case .text(let text): text
        case .integer(let number): String(number)
        case .float(let number): String(number)
        case .blob, .null: nil
        }
    }

    /// INTEGER only: no conversion from text or real, so a wrong column type is an error, not a guess.
    var integer: Int64? {
        if case .integer(let number) = self { return number }
        return nil
    }
}

/// A value with structure: stored as JSON text.
private struct NeedsJSON: Error {}

/// An `Encoder` for one value; asking for a keyed or unkeyed container means "store it as JSON".
private final class SingleValueEncoder: Encoder, SingleValueEncodingContainer {
    var value: SQLiteValue?
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RefusingKeyedContainer())
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() throws { value = .null }
    func encode(_ value: Bool) throws { self.value = .integer(value ? 1 : 0) }
    func encode(_ value: String) throws { self.value = .text(value) }
    func encode(_ value: Double) throws { self.value = .float(value) }
    func encode(_ value: Float) throws { self.value = .float(Double(value)) }
    func encode(_ value: Int) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: Int8) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: Int16) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: Int32) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: Int64) throws { self.value = .integer(value) }
    func encode(_ value: UInt) throws { self.value = .integer(try Self.fit(value)) }
    func encode(_ value: UInt8) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: UInt16) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: UInt32) throws { self.value = .integer(Int64(value)) }
    func encode(_ value: UInt64) throws { self.value = .integer(try Self.fit(value)) }
    func encode<T: Encodable>(_ value: T) throws {
        if let simple = SQLiteValue.simple(value) { self.value = simple } else { try value.encode(to: self) }
    }

    /// SQLite's INTEGER is signed 64-bit: a larger unsigned number is refused, not wrapped.
    private static func fit<T: BinaryInteger>(_ value: T) throws -> Int64 {
        guard let fitted = Int64(exactly: value) else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) does not fit SQLite's INTEGER"))
        }
        return fitted
    }
}

private struct RefusingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil(forKey key: Key) throws { throw NeedsJSON() }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { throw NeedsJSON() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(RefusingKeyedContainer<NestedKey>())
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
    mutating func superEncoder() -> any Encoder { SingleValueEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { SingleValueEncoder() }
}

private struct RefusingUnkeyedContainer: UnkeyedEncodingContainer {
    var codingPath: [any CodingKey] { [] }
    var count: Int { 0 }
    mutating func encodeNil() throws { throw NeedsJSON() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw NeedsJSON() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(RefusingKeyedContainer<NestedKey>())
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
    mutating func superEncoder() -> any Encoder { SingleValueEncoder() }
}

/// A `Decoder` for one value; asking for a keyed or unkeyed container means "it was stored as JSON".
private struct SingleValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: SQLiteValue
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NeedsJSON() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard let number = value.integer else { throw SQLiteValue.mismatch(type, value) }
        return number != 0
    }
    func decode(_ type: String.Type) throws -> String {
        guard let text = value.string else { throw SQLiteValue.mismatch(type, value) }
        return text
    }
    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .float(let number): return number
        case .integer(let number): return Double(number)
        default: throw SQLiteValue.mismatch(type, value)
        }
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch value {
        case .blob(let bytes) where T.self == Data.self: return Data(buffer: bytes) as! T
        case .blob(let bytes) where T.self == ByteBuffer.self: return bytes as! T
        case .blob(let bytes) where T.self == [UInt8].self: return Array(bytes.readableBytesView) as! T
        case .float(let seconds) where T.self == Date.self: return Date(timeIntervalSince1970: seconds) as! T
        case .integer(let seconds) where T.self == Date.self: return Date(timeIntervalSince1970: Double(seconds)) as! T
        case .text(let text) where T.self == UUID.self:
            guard let id = UUID(uuidString: text) else { throw SQLiteValue.mismatch(type, value) }
            return id as! T
        default: return try T(from: self)
        }
    }

    /// INTEGER that fits `T`, or an error (never a wrapped number).
    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard let number = value.integer, let fitted = T(exactly: number) else { throw SQLiteValue.mismatch(type, value) }
        return fitted
    }
}
