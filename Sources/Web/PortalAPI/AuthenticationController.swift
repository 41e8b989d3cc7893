import Foundation
import Hummingbird
import PortalCore

/// `POST /api/2.0/authentication` (DocSpace's API sign-in) and `GET /api/2.0/people/@self`.
struct AuthenticationController {
    let signIn: SignInService

    struct SignInRequest: Decodable {
        let userName: String
        let password: String
    }

    struct TokenResponse: Encodable {
        let token: String
        let expires: Date
    }

    /// The profile fields of SPEC §4.
    struct Profile: Encodable {
        let id: String
        let displayName: String
        let firstName: String
        let lastName: String
        let email: String
        let role: String
        let avatar: String

        init(_ person: Person) {
            id = person.id.rawValue
            displayName = person.displayName
            firstName = person.firstName
            lastName = person.lastName
            email = person.email
            role = person.role.rawValue
            avatar = ""
        }
    }

    func addRoutes(to routes: Routes) {
        routes.post("/api/2.0/authentication") { request, context in
            let body = try await RequestBody.json(SignInRequest.self, from: request)
            let person = try await signIn.authenticate(
                email: body.userName, password: body.password, clientAddress: context.clientAddress
            )
            let opened = try await signIn.openSession(for: person, kind: .api)
            return try DocSpaceEnvelope.response(TokenResponse(token: opened.token, expires: opened.session.expiresAt))
        }
        routes.get("/api/2.0/people/@self") { _, context in
            // Reachable with an OAuth token holding accounts.self:read or :write (checked by BearerTokenMiddleware).
            guard let signedIn = context.signedIn else {
                throw AppError.unauthorized("Sign in, or send a portal or OAuth access token as Authorization: Bearer.")
            }
            return try DocSpaceEnvelope.response(Profile(signedIn.person))
        }
    }
}

/// The signed-in caller of a portal-only API route (a session or portal token), or 401.
func requireSignedIn(_ context: AppRequestContext) throws -> SignedIn {
    guard let signedIn = context.signedIn, signedIn.session.kind != .oauth else {
        throw AppError.unauthorized("Sign in, or send a portal token as Authorization: Bearer.")
    }
    return signedIn
}
