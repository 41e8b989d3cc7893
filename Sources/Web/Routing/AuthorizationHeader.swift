import HTTPParsing
import OAuthCore

extension AuthorizationHeader {
    /// What a client-authenticated request's `Authorization` header carries, for `ClientCredentials`.
    static func client(_ header: String?) -> ClientAuthorizationHeader? {
        guard let header else { return nil }
        return credentials(header, scheme: "Basic").map { .basic(String($0)) } ?? .other
    }
}
