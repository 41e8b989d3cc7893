import Foundation

/// What `/oauth2/authorize` does with a validated request, decided without I/O: ask for a sign-in,
/// ask for consent, refuse back at the app, or issue a code (OIDC Core §3.1.2.1–§3.1.2.6).
public enum AuthorizationDecision {
    /// The next step.
    public enum Step: Sendable, Equatable {
        /// Send the browser to sign in (again, when `force`: a session exists but is not fresh enough).
        case signIn(force: Bool)
        /// Show the consent screen.
        case askConsent
        /// Redirect back to the app with this error.
        case refuse(OAuthError)
        /// Remember the consent first when `remember` (the person just allowed), then issue a code.
        case issueCode(remember: Bool)
    }

    /// The step for `request`.
    /// - Parameters:
    ///   - authenticatedAt: when the browser's session proved the password; `nil` without a session.
    ///   - remembered: the scopes the person already allowed this app.
    ///   - answer: the person's answer on the consent form (`allow` or `deny`), when this is its post.
    public static func next(
        _ request: ValidatedAuthorization, authenticatedAt: Date?, remembered: [String]?, answer: String?, now: Date
    ) -> Step {
        let silent = request.prompts.contains("none")
        guard let authenticatedAt else {
            return silent ? .refuse(.loginRequired("The person is not signed in.")) : .signIn(force: false)
        }
        // A consent form's answer comes after the sign-in it was shown for: freshness was decided then.
        if answer == nil {
            let tooOld = request.maxAge.map { now.timeIntervalSince(authenticatedAt) > TimeInterval($0) } ?? false
            if request.prompts.contains("login") || tooOld {
                return silent ? .refuse(.loginRequired("The person must sign in again.")) : .signIn(force: true)
            }
        }
        if let answer {
            return answer == "allow" ? .issueCode(remember: true) : .refuse(.accessDenied("The person denied the request."))
        }
        let covered = remembered.map { Set(request.scopes.names).isSubset(of: Set($0)) } ?? false
        if !covered || request.prompts.contains("consent") {
            return silent ? .refuse(.consentRequired("The person has not allowed these scopes.")) : .askConsent
        }
        return .issueCode(remember: false)
    }

    /// The code for a request the person allowed (RFC 6749 §4.1.2): single use, short-lived, and bound
    /// to the app, the person, the redirect URI, the scopes, the nonce, the PKCE challenge and the time
    /// of sign-in. Answers the code to send and the record to store (only its hash).
    public static func code(
        for request: ValidatedAuthorization, personID: SubjectID, authenticatedAt: Date, now: Date, lifetime: TimeInterval
    ) -> (code: String, record: IssuedCode) {
        let code = OpaqueToken.generate()
        return (code, IssuedCode(
            codeHash: OpaqueToken.hash(code), grantID: .generate(), clientID: request.client.clientID,
            personID: personID, redirectURI: request.redirectURI, redirectURIWasGiven: request.redirectURIWasGiven,
            scopes: request.scopes.names, nonce: request.nonce, codeChallenge: request.codeChallenge,
            authTime: authenticatedAt, createdAt: now, expiresAt: now.addingTimeInterval(lifetime), resources: request.resources
        ))
    }
}
