import Foundation
import GatehouseTestSupport
import NIOCore
import SQLKit
@testable import Storage
import Testing

/// Values bound through SQLKit reach SQLite as the storage class they should (SQLite "Datatypes In
/// SQLite" §2) and come back as what was bound: our own conversion, replacing SQLiteKit's.
@Suite struct SQLiteValueTests {
    struct Tag: Codable, Equatable { let name: String; let weight: Int }
    enum Colour: String, Codable { case red, green }

    @Test func everyKindOfBindComesBackAsBoundAndIsStoredInItsClass() async throws {
        try await withScratchDatabase(.sqlite) { database, _ in
            try await database.write { try await $0.raw("CREATE TABLE value_rows (name TEXT PRIMARY KEY, v)").run() }
            func roundTrip<T: Codable & Equatable & Sendable>(_ name: String, _ value: T, storedAs storageClass: String) async throws {
                try await database.write { try await $0.raw("INSERT INTO value_rows (name, v) VALUES (\(bind: name), \(bind: value))").run() }
                let row = try #require(try await database.read { try await $0.raw("SELECT v, typeof(v) AS class FROM value_rows WHERE name = \(bind: name)").first() })
                let stored = try row.decode(column: "class", as: String.self)
                #expect(stored == storageClass, "\(name) is stored as \(stored)")
                #expect(try row.decode(column: "v", as: T.self) == value, "\(name)")
            }
            try await roundTrip("text", "naïve ✓", storedAs: "text")
            try await roundTrip("int", Int.max, storedAs: "integer")
            try await roundTrip("int64", Int64.min, storedAs: "integer")
            try await roundTrip("int32", Int32(-7), storedAs: "integer")
            try await roundTrip("uint32", UInt32.max, storedAs: "integer")
            try await roundTrip("bool", true, storedAs: "integer")
            try await roundTrip("double", 2.5, storedAs: "real")
            try await roundTrip("data", Data([0, 1, 2, 255]), storedAs: "blob")
            try await roundTrip("empty data", Data(), storedAs: "blob")
            try await roundTrip("nil", String?.none, storedAs: "null")
            try await roundTrip("some", String?.some("x"), storedAs: "text")
            try await roundTrip("enum", Colour.green, storedAs: "text")
            try await roundTrip("array", ["a", "b"], storedAs: "text")
            try await roundTrip("struct", Tag(name: "t", weight: 3), storedAs: "text")
            try await roundTrip("empty array", [String](), storedAs: "text")
            try await roundTrip("empty dictionary", [String: Int](), storedAs: "text")
            try await roundTrip("optional empty array", [Int]?.some([]), storedAs: "text")
            try await roundTrip("uuid", UUID(uuidString: "9B2D1C1E-3F3A-4B8E-9A55-0E1B2C3D4E5F")!, storedAs: "text")
            try await roundTrip("date", Date(timeIntervalSince1970: 1_800_000_000.5), storedAs: "real")
        }
    }

    @Test func whatDoesNotFitIsRefusedNotWrapped() throws {
        #expect(throws: EncodingError.self) { try SQLiteValue(encoding: UInt64.max) }
        #expect(try SQLiteValue(encoding: UInt64(Int64.max)) == .integer(Int64.max))
        #expect(throws: DecodingError.self) { try SQLiteValue.integer(300).decode(UInt8.self) }
        #expect(throws: DecodingError.self) { try SQLiteValue.text("12").decode(Int.self) }
        #expect(throws: DecodingError.self) { try SQLiteValue.null.decode(String.self) }
        #expect(try SQLiteValue.null.decode(Int?.self) == nil)
        #expect(try SQLiteValue.integer(12).decode(String.self) == "12")
        #expect(try SQLiteValue.integer(0).decode(Bool.self) == false)
    }
}
