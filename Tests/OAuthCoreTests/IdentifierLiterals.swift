import OAuthCore

// Tables read better with `"p-1"` than with `SubjectID(rawValue: "p-1")`; only the tests spell ids so.
extension SubjectID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
}

extension GrantID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
}
