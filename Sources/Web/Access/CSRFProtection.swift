import Crypto
import Foundation
import Hummingbird
import OAuthCore

/// Cross-site request forgery protection for forms (OWASP CSRF Prevention, "signed double submit").
///
/// The browser holds a random HttpOnly `gh_csrf` cookie; every form carries
/// `HMAC-SHA256(secret key, cookie ‖ session)`, bound to the browser's session cookie (or to none on
/// the sign-in form, where the CSRF cookie itself is the pre-session id). A forged cross-site form
/// cannot read the cookie; an attacker who plants a cookie cannot sign it without the server's key;
/// and a cookie and token taken from one browser, or from a page seen before signing in, are refused
/// once sent with another session.
public struct CSRFProtection: Sendable {
    /// The hidden form field's name.
    public static let fieldName = "csrf_token"

    private let key: SymmetricKey
    private let secureCookies: Bool
    /// The cookies' names (`__Host-` on https).
    public let cookies: CookieNames

    /// Protection keyed by the server's secret key.
    public init(secretKey: SymmetricKey, secureCookies: Bool) {
        self.key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("csrf".utf8), using: secretKey))
        self.secureCookies = secureCookies
        self.cookies = CookieNames(secure: secureCookies)
    }

    /// A page's CSRF state: the browser's cookie value, the token for its forms, and the cookie to
    /// set when the request came without one.
    public struct State: Sendable {
        public let cookieValue: String
        public let token: String
        public let newCookie: Cookie?
    }

    /// The state for a request (a new cookie when it had none).
    public func token(for request: Request) -> State {
        if let existing = request.cookie(cookies.csrf), existing.count == 43 {
            return State(cookieValue: existing, token: sign(existing, request: request), newCookie: nil)
        }
        let value = OpaqueToken.generate()
        let cookie = Cookie(name: cookies.csrf, value: value, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
        return State(cookieValue: value, token: sign(value, request: request), newCookie: cookie)
    }

    /// The refusal of a form without a valid token.
    static let staleForm = AppError.forbidden("The form has expired or did not come from this site. Reload the page and try again.")

    /// Reads a URL-encoded form and checks its token; `refusal` (403) when it is missing or wrong.
    func checkedForm(_ request: Request, refusal: AppError = staleForm) async throws -> FormFields {
        let form = try await RequestBody.form(from: request)
        guard verify(form[Self.fieldName], request: request) else { throw refusal }
        return form
    }

    /// `true` when `submitted` is the token of the request's CSRF cookie and session cookie.
    public func verify(_ submitted: String?, request: Request) -> Bool {
        guard let submitted, let cookie = request.cookie(cookies.csrf) else { return false }
        return ConstantTime.equals(sign(cookie, request: request), submitted)
    }

    /// The session cookie with `value` (empty: the cookie is removed), HttpOnly, SameSite=Lax, Secure on https.
    func sessionCookie(_ value: String, maxAge: Int = 0) -> Cookie {
        Cookie(name: cookies.session, value: value, maxAge: maxAge, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// The browser's CSRF cookie, for bindings of its own (the consent form).
    func csrfCookie(of request: Request) -> String { request.cookie(cookies.csrf) ?? "" }

    /// The HMAC of the CSRF cookie and of the session cookie sent beside it (its SHA-256: the
    /// session token itself never enters a token a page shows).
    private func sign(_ value: String, request: Request) -> String {
        let session = request.cookie(cookies.session).map { OpaqueToken.hash($0) } ?? "-"
        return Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Data((value + "\n" + session).utf8), using: key))
    }
}
