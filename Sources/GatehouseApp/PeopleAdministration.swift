import Foundation
import OAuthCore
import PortalCore
import Storage

/// Creating accounts from the command line and on first start.
public struct PeopleAdministration: Sendable {
    let people: any PersonStore
    let service: PeopleService

    /// Administration on `database`.
    public init(database: any Database, bcryptCost: UInt8, clock: any TimeSource = SystemTime()) {
        people = SQLPersonStore(database: database)
        service = PeopleService(people: people, hasher: PasswordHasher(cost: bcryptCost), clock: clock)
    }

    /// Adds an account (`PeopleService.add`); throws `PersonInputError` for bad input or a taken email.
    @discardableResult
    public func add(email: String, password: String, role: Role, firstName: String = "", lastName: String = "") async throws
        -> Person
    {
        try await service.add(email: email, password: password, role: role, firstName: firstName, lastName: lastName)
    }

    /// A new password for the person with `email`, ending their sessions (`PeopleService.setPassword`).
    @discardableResult
    public func setPassword(email: String, password: String) async throws -> Person {
        try await service.setPassword(email: email, password: password)
    }

    /// When the portal has no owner yet, creates one from the configured email and password, or
    /// `admin@localhost` with a random password that is printed once through `announce`.
    public func ensureOwner(email: String?, password: String?, announce: @Sendable (String) -> Void) async throws {
        guard try await !people.hasOwner() else { return }
        let ownerEmail = email ?? "admin@localhost"
        let ownerPassword = password ?? OpaqueToken.generate(byteCount: 15)
        do {
            try await add(email: ownerEmail, password: ownerPassword, role: .owner, firstName: "Portal", lastName: "Owner")
        } catch PersonInputError.emailTaken {
            return  // another process starting at the same moment made it
        } catch let error as PersonInputError {
            throw ConfigurationError(
                variable: email == nil ? "GATEHOUSE_ADMIN_PASSWORD" : "GATEHOUSE_ADMIN_EMAIL/GATEHOUSE_ADMIN_PASSWORD",
                reason: "cannot make the owner account: \(error)"
            )
        }
        if password == nil {
            announce("""
                Created the portal owner \(ownerEmail) with the password: \(ownerPassword)
                It is shown only this once; sign in at /login and keep it somewhere safe.
                """)
        } else {
            announce("Created the portal owner \(ownerEmail) from GATEHOUSE_ADMIN_EMAIL.")
        }
    }
}
