import Foundation
import Hummingbird
import PortalCore

/// `POST /api/2.0/authentication`: DocSpace's API sign-in, answering a portal token.
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

    func addRoutes(to routes: RouteGroup) {
        routes.post("/authentication", .anyone) { request, context in
            let body = try await RequestBody.json(SignInRequest.self, from: request)
            let opened = try await signIn.signIn(
                email: body.userName, password: body.password, clientAddress: context.clientAddress, kind: .api
            )
            return try DocSpaceEnvelope.response(TokenResponse(token: opened.token, expires: opened.session.expiresAt))
        }
    }
}

/// The signed-in caller of a portal-only API route (a session or portal token), or 401.
func requireSignedIn(_ context: AppRequestContext) throws -> SignedIn {
    guard let signedIn = context.signedIn else {
        throw AppError.unauthorized("Sign in, or send a portal token as Authorization: Bearer.")
    }
    return signedIn
}
