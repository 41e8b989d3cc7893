import Foundation
import OAuthCore
import PortalCore

/// Adding people: the one way an account is made, for `gatehouse users add`, the owner on first
/// start, and `POST /api/2.0/people` alike — the input checked by `NewPerson`, the password hashed
/// with bcrypt, the person stored.
public struct PeopleService: Sendable {
    let people: any PersonStore
    let hasher: PasswordHasher
    let clock: any TimeSource

    public init(people: any PersonStore, hasher: PasswordHasher, clock: any TimeSource) {
        self.people = people
        self.hasher = hasher
        self.clock = clock
    }

    /// Adds an account; throws `PersonInputError` for bad input or a taken email, and writes nothing then.
    @discardableResult
    public func add(email: String, password: String, role: Role, firstName: String = "", lastName: String = "") async throws -> Person {
        let input = try NewPerson.validate(email: email, password: password, firstName: firstName, lastName: lastName, role: role).get()
        let now = clock.now
        let person = Person(
            id: .generate(), email: input.email, firstName: input.firstName, lastName: input.lastName, role: input.role,
            createdAt: now, updatedAt: now
        )
        try await people.create(person, passwordHash: try await hasher.hash(input.password))
        return person
    }

    /// Gives the person with `email` a new password and ends their sessions and portal tokens (a lost
    /// password recovered by the operator); throws `PersonInputError` and changes nothing for an unknown
    /// email or a password that breaks the rule.
    @discardableResult
    public func setPassword(email: String, password: String) async throws -> Person {
        guard NewPerson.isAcceptablePassword(password) else { throw PersonInputError.invalidPassword }
        let normalized = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let person = try await people.credentials(email: normalized)?.person,
              try await people.setPasswordHash(try await hasher.hash(password), for: person.id, at: clock.now)
        else { throw PersonInputError.unknownPerson }
        return person
    }
}
