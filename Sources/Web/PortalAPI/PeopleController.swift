import Foundation
import Hummingbird
import OAuthCore
import PortalCore
import Storage

/// The people API of SPEC §4: one's own profile, the directory, and (for administrators) adding,
/// editing and removing accounts. Who may do what is `PeoplePolicy`; scopes were checked before.
struct PeopleController {
    let people: any PersonStore
    let directory: any PeopleDirectory
    let hasher: PasswordHasher
    let revoker: Revoker
    let clock: any TimeSource

    /// The profile fields of SPEC §4.
    struct Profile: Encodable, Sendable {
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

    struct ProfileChange: Decodable {
        let firstName: String?
        let lastName: String?
        let displayName: String?
        let role: String?
    }

    struct NewAccount: Decodable {
        let email: String
        let firstName: String?
        let lastName: String?
        let password: String
        let role: String?
    }

    static let maximumPageSize = 1000

    func addRoutes(to routes: RouteGroup) {
        routes.get("/people/@self", .api(oauth: .read("accounts.self"))) { _, context in
            try DocSpaceEnvelope.response(Profile(try PortalAPI.caller(context)))
        }
        routes.put("/people/@self", .api(oauth: .write("accounts.self"))) { request, context in
            let me = try PortalAPI.caller(context)
            let change = try await RequestBody.json(ProfileChange.self, from: request)
            guard change.role == nil else { throw AppError.forbidden("Nobody changes their own role.") }
            return try DocSpaceEnvelope.response(Profile(try await apply(change, to: me)))
        }
        routes.get("/people", .api(oauth: .read("accounts"))) { request, context in
            let me = try PortalAPI.caller(context)
            guard PeoplePolicy.mayList(me) else { throw AppError.forbidden("Guests see only their own profile.") }
            let query = request.uri.queryParameters
            let count = try Self.integer(query["count"].map(String.init), name: "count", default: 25, range: 1...Self.maximumPageSize)
            let start = try Self.integer(query["startIndex"].map(String.init), name: "startIndex", default: 0, range: 0...Int(Int32.max))
            let text = (query["filterValue"] ?? query["text"]).map(String.init)
            let page = try await directory.list(text: text, offset: start, limit: count)
            return try PortalAPI.page(page.people.map(Profile.init), total: page.total)
        }
        routes.post("/people", .api(oauth: .write("accounts"))) { request, context in
            let me = try PortalAPI.caller(context)
            let body = try await RequestBody.json(NewAccount.self, from: request)
            let role = try Self.role(body.role ?? Role.user.rawValue)
            guard PeoplePolicy.mayCreate(me, role: role) else { throw AppError.forbidden("You may not add an account with this role.") }
            let person: Person
            do {
                person = try await PeopleService(people: people, hasher: hasher, clock: clock).add(
                    email: body.email, password: body.password, role: role, firstName: body.firstName ?? "", lastName: body.lastName ?? ""
                )
            } catch PersonInputError.emailTaken {
                throw AppError.conflict(PersonInputError.emailTaken.description)
            } catch let error as PersonInputError {
                throw AppError.badRequest(error.description)
            }
            return try DocSpaceEnvelope.response(Profile(person), status: .created)
        }
        routes.get("/people/{id}", .api(oauth: .read("accounts"))) { _, context in
            let me = try PortalAPI.caller(context)
            let target = try await person(context)
            guard PeoplePolicy.mayRead(me, target) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(Profile(target))
        }
        routes.put("/people/{id}", .api(oauth: .write("accounts"))) { request, context in
            let me = try PortalAPI.caller(context)
            let target = try await person(context)
            guard PeoplePolicy.mayRead(me, target) else { throw AppError.notFound }
            let change = try await RequestBody.json(ProfileChange.self, from: request)
            let role = try change.role.map(Self.role)
            guard PeoplePolicy.mayEdit(me, target, newRole: role) else { throw AppError.forbidden("You may not change this account.") }
            return try DocSpaceEnvelope.response(Profile(try await apply(change, to: target, role: role)))
        }
        routes.delete("/people/{id}", .api(oauth: .write("accounts"))) { _, context in
            let me = try PortalAPI.caller(context)
            let target = try await person(context)
            guard PeoplePolicy.mayRead(me, target) else { throw AppError.notFound }
            guard PeoplePolicy.mayRemove(me, target) else {
                throw AppError.forbidden(target.role == .owner ? "The owner cannot be removed." : "You may not remove this account.")
            }
            guard try await revoker.revoke(.person(id: target.id.subject), write: { now, expiry in
                try await directory.remove(target.id, at: now, feedExpiry: expiry)
            }) else { throw AppError.notFound }
            return try DocSpaceEnvelope.response(Profile(target))
        }
    }

    /// The person named by the path; 404 for an id that is not a UUID or not known.
    func person(_ context: AppRequestContext) async throws -> Person {
        guard let text = context.parameters.get("id"), let id = PersonID(validating: text), let person = try await people.find(id: id)
        else { throw AppError.notFound }
        return person
    }

    func apply(_ change: ProfileChange, to person: Person, role: Role? = nil) async throws -> Person {
        var changed = person
        func name(_ value: String?, _ field: String) throws -> String? {
            guard let value else { return nil }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard NewPerson.isAcceptableName(trimmed) else {
                throw AppError.badRequest(
                    "The field '\(field)' must be at most \(NewPerson.maximumNameLength) characters on one line, without control characters."
                )
            }
            return trimmed
        }
        if let first = try name(change.firstName, "firstName") { changed.firstName = first }
        if let last = try name(change.lastName, "lastName") { changed.lastName = last }
        if let display = try name(change.displayName, "displayName") { changed.chosenDisplayName = display.isEmpty ? nil : display }
        if let role { changed.role = role }
        changed.updatedAt = clock.now
        guard try await directory.update(changed) else { throw AppError.notFound }
        return changed
    }

    static func role(_ text: String) throws -> Role {
        guard let role = Role(rawValue: text.lowercased()) else {
            throw AppError.badRequest("The field 'role' must be one of owner, admin, user, guest.")
        }
        return role
    }

    static func integer(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw AppError.badRequest("The parameter '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }
}
