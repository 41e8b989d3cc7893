import Foundation
import OAuthCore
import PortalCore
import Storage

/// The portal API that the scopes protect (SPEC §4): people, files and rooms, the API sign-in
/// that hands out portal tokens, and the OpenAPI document that describes the API (SPEC §8).
public struct PortalAPIFeature: Sendable {
    let people: any PersonStore
    let directory: any PeopleDirectory
    let files: any FileStore
    let hasher: PasswordHasher
    let signIn: SignInService
    let revoker: Revoker
    let maxUploadBytes: Int
    let uploadBudget: BodyBudget
    let clock: any TimeSource

    public init(
        people: any PersonStore, directory: any PeopleDirectory, files: any FileStore, hasher: PasswordHasher, signIn: SignInService,
        revoker: Revoker, maxUploadBytes: Int, uploadBudget: BodyBudget, clock: any TimeSource
    ) {
        self.people = people
        self.directory = directory
        self.files = files
        self.hasher = hasher
        self.signIn = signIn
        self.revoker = revoker
        self.maxUploadBytes = maxUploadBytes
        self.uploadBudget = uploadBudget
        self.clock = clock
    }

    public func register(on routes: Routes) {
        let document = Result { try OpenAPIDocument.load(publicURL: routes.publicURL, sessionCookieName: routes.sessionCookieName) }
        let routes = routes.group("/api/2.0")
        // A document that did not load (a broken build) is a 500 on this route alone, never a server that will not start.
        routes.get("/openapi.json", .anyone) { _, _ in try document.get().response }
        AuthenticationController(signIn: signIn).addRoutes(to: routes)
        PeopleController(people: people, directory: directory, hasher: hasher, revoker: revoker, clock: clock).addRoutes(to: routes)
        let checks = FolderAccessChecks(files: files)
        RoomsController(files: files, people: people, checks: checks, clock: clock).addRoutes(to: routes)
        FilesController(files: files, checks: checks, uploadLimit: maxUploadBytes, budget: uploadBudget, clock: clock).addRoutes(to: routes)
    }
}
