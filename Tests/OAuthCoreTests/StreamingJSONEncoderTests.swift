import Foundation
import Testing
import OAuthCore

/// The streaming encoder (portal API answers, token responses, JWT claims) writes what `JSONEncoder`
/// writes: the same values, key order aside.
@Suite struct StreamingJSONEncoderTests {
    struct Inner: Encodable, Sendable {
        let id: Int64
        let tags: [String]
        let flag: Bool
    }

    struct Outer: Encodable, Sendable {
        let title: String
        let missing: String?
        let present: String?
        let count: Int
        let ratio: Double
        let when: Date
        let inner: Inner
        let list: [Inner]
        let empty: [Inner]
        let map: [String: Int]
        let zero: Int
        let lowest: Int64
        let small: Int32
        let site: URL
        let unsigned: UInt
        let byte: UInt8
        let short: Int16
        let single: Float
    }

    @Test(arguments: ["plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "control \u{1}\u{1F}", "ünïcödé ✓ 😀", "a/b", ""])
    func sameValuesAsJSONEncoder(title: String) throws {
        let value = Outer(
            title: title, missing: nil, present: title, count: -42, ratio: 0.5, when: Date(timeIntervalSince1970: 1_900_000_123),
            inner: Inner(id: 7, tags: ["a", title], flag: true),
            list: [Inner(id: 1, tags: [], flag: false), Inner(id: Int64.max, tags: ["x"], flag: true)], empty: [], map: ["k": 1],
            zero: 0, lowest: Int64.min, small: -7, site: URL(string: "https://example.com/a?b=c")!, unsigned: UInt.max, byte: 255,
            short: -300, single: 0.25
        )
        let streamed = try StreamingJSONEncoder.encode(value)
        let foundation = JSONEncoder()
        foundation.dateEncodingStrategy = .iso8601
        let reference = try foundation.encode(value)
        let a = try JSONSerialization.jsonObject(with: Data(streamed)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: reference) as? NSDictionary
        #expect(a != nil)
        #expect(a == b)
        #expect(a?["missing"] == nil)
    }

    /// An object written member by member holds the same members, in that order, as the value
    /// encoded on its own would inside it.
    @Test func objectMembersAroundAValue() throws {
        let inner = Inner(id: 3, tags: ["q\"uote", ""], flag: false)
        let bytes = try StreamingJSONEncoder.object { members in
            members.add("count", 2)
            try members.add("response", inner)
            members.add("status", -1)
            try members.add("list", [inner, inner])
        }
        let one = #"{"id":3,"tags":["q\"uote",""],"flag":false}"#
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"count":2,"response":"# + one + #","status":-1,"list":["# + one + "," + one + "]}")
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary
        let alone = try JSONSerialization.jsonObject(with: Data(try StreamingJSONEncoder.encode(inner))) as? NSDictionary
        #expect(object?["count"] as? Int == 2)
        #expect(object?["status"] as? Int == -1)
        #expect(object?["response"] as? NSDictionary == alone)
        #expect((object?["list"] as? [NSDictionary])?.count == 2)
        #expect(object?.count == 4)
    }
}
