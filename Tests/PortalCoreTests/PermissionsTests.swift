import Foundation
import PortalCore
import Testing

/// SPEC §4's rules, as tables: every role against every action.
@Suite struct PermissionsTests {
    static func person(_ role: Role, _ name: String = UUID().uuidString) -> Person {
        Person(id: PersonID(rawValue: name), email: "\(name)@example.com", firstName: "", lastName: "", role: role,
               createdAt: Date(), updatedAt: Date())
    }

    @Test(arguments: [(Role.owner, true), (.admin, true), (.user, true), (.guest, false)])
    func listingPeople(role: Role, allowed: Bool) {
        #expect(PeoplePolicy.mayList(Self.person(role)) == allowed)
        // Everyone reads their own account.
        let me = Self.person(role)
        #expect(PeoplePolicy.mayRead(me, me))
    }

    /// Who may add an account of which role.
    @Test(arguments: [
        (Role.owner, Role.admin, true), (.owner, .user, true), (.owner, .guest, true), (.owner, .owner, false),
        (.admin, .admin, false), (.admin, .user, true), (.admin, .guest, true), (.admin, .owner, false),
        (.user, .user, false), (.user, .guest, false), (.guest, .guest, false),
    ])
    func creating(actor: Role, role: Role, allowed: Bool) {
        #expect(PeoplePolicy.mayCreate(Self.person(actor), role: role) == allowed)
    }

    /// Who may edit (and re-role) whom.
    @Test(arguments: [
        (Role.owner, Role.admin, nil as Role?, true), (.owner, .user, .admin, true), (.owner, .user, .owner, false),
        (.admin, .user, nil, true), (.admin, .user, .guest, true), (.admin, .user, .admin, false), (.admin, .admin, nil, false),
        (.admin, .owner, nil, false), (.user, .user, nil, false), (.user, .guest, nil, false), (.guest, .user, nil, false),
    ])
    func editing(actor: Role, target: Role, newRole: Role?, allowed: Bool) {
        #expect(PeoplePolicy.mayEdit(Self.person(actor, "a"), Self.person(target, "b"), newRole: newRole) == allowed)
    }

    @Test func editingOneself() {
        let me = Self.person(.user)
        #expect(PeoplePolicy.mayEdit(me, me, newRole: nil))
        #expect(PeoplePolicy.mayEdit(me, me, newRole: .user))
        #expect(!PeoplePolicy.mayEdit(me, me, newRole: .admin))
    }

    /// The owner is never removed; admins remove users and guests; nobody removes themselves here.
    @Test(arguments: [
        (Role.owner, Role.admin, true), (.owner, .user, true), (.owner, .guest, true),
        (.admin, .owner, false), (.admin, .admin, false), (.admin, .user, true), (.admin, .guest, true),
        (.user, .user, false), (.user, .guest, false), (.guest, .guest, false),
    ])
    func removing(actor: Role, target: Role, allowed: Bool) {
        #expect(PeoplePolicy.mayRemove(Self.person(actor, "a"), Self.person(target, "b")) == allowed)
    }

    @Test func nobodyRemovesThemselvesAndTheOwnerStays() {
        let owner = Self.person(.owner)
        #expect(!PeoplePolicy.mayRemove(owner, owner))
    }

    /// "My documents" are their owner's alone, administrators included.
    @Test(arguments: Role.allCases)
    func myDocumentsBelongToTheirOwner(role: Role) {
        let me = Self.person(role, "me")
        let other = Self.person(.user, "other")
        #expect(FolderAccess.of(me, root: .myDocuments(owner: me.id), membership: nil) == .manage)
        #expect(FolderAccess.of(me, root: .myDocuments(owner: other.id), membership: nil) == .none)
    }

    /// Room access by role and membership level.
    @Test(arguments: [
        (Role.owner, nil as RoomAccess?, FolderAccess.manage), (.admin, nil, .manage),
        (.user, nil, .none), (.user, .viewer, .read), (.user, .editor, .write), (.user, .roomAdmin, .manage),
        (.guest, nil, .none), (.guest, .viewer, .read), (.guest, .editor, .read), (.guest, .roomAdmin, .manage),
    ])
    func rooms(role: Role, membership: RoomAccess?, expected: FolderAccess) {
        #expect(FolderAccess.of(Self.person(role), root: .room(id: 7), membership: membership) == expected)
    }

    @Test(arguments: [(Role.owner, true), (.admin, true), (.user, true), (.guest, false)])
    func creatingRooms(role: Role, allowed: Bool) {
        #expect(FolderAccess.mayCreateRoom(Self.person(role)) == allowed)
    }

    @Test(arguments: [
        ("Report.docx", "Report.docx"), ("  Trimmed  ", "Trimmed"), (String(repeating: "x", count: 170), String(repeating: "x", count: 170)),
        ("Ünïcödé ✓", "Ünïcödé ✓"),
    ])
    func titlesAccepted(text: String, expected: String) throws {
        #expect(try FileTitle.validate(text).get() == expected)
    }

    @Test(arguments: [
        ("", TitleError.empty), ("   ", .empty), (String(repeating: "x", count: 171), .tooLong),
        ("a/b", .forbiddenCharacter), ("a\\b", .forbiddenCharacter), ("a:b", .forbiddenCharacter), ("a*b", .forbiddenCharacter),
        ("a?b", .forbiddenCharacter), ("a\"b", .forbiddenCharacter), ("a<b", .forbiddenCharacter), ("a>b", .forbiddenCharacter),
        ("a|b", .forbiddenCharacter), ("a\u{7}b", .forbiddenCharacter),
    ])
    func titlesRefused(text: String, error: TitleError) {
        #expect(throws: error) { try FileTitle.validate(text).get() }
    }

    @Test(arguments: [
        (Array("%PDF-1.7\n".utf8), "a.pdf", "application/pdf"),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0], "renamed.txt", "image/png"),
        ([0xFF, 0xD8, 0xFF, 0xE0], "x", "image/jpeg"),
        ([0x50, 0x4B, 0x03, 0x04, 0], "Report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ([0x50, 0x4B, 0x03, 0x04, 0], "archive.bin", "application/zip"),
        (Array("<html><script>alert(1)</script>".utf8), "page.html", "text/plain; charset=utf-8"),
        (Array("a,b\n1,2\n".utf8), "t.csv", "text/csv; charset=utf-8"),
        ([], "empty.txt", "text/plain; charset=utf-8"),
        ([0x00, 0x01, 0x02, 0xFF], "blob.txt", "application/octet-stream"),
    ])
    func sniffing(bytes: [UInt8], title: String, expected: String) {
        #expect(ContentSniffing.mediaType(of: bytes, title: title) == expected)
    }
}
