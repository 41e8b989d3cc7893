import PortalCore
import Testing

@Suite struct ScopeMapTests {
    @Test(arguments: [
        ("GET", "/api/2.0/people/@self", ScopeMap.Requirement.anyOf(["accounts.self:read", "accounts.self:write"])),
        ("PUT", "/api/2.0/people/@self", .anyOf(["accounts.self:write"])),
        ("GET", "/api/2.0/people", .anyOf(["accounts:read", "accounts:write"])),
        ("DELETE", "/api/2.0/people/42", .anyOf(["accounts:write"])),
        ("GET", "/api/2.0/files/rooms", .anyOf(["rooms:read", "rooms:write"])),
        ("PUT", "/api/2.0/files/rooms/7/share", .anyOf(["rooms:write"])),
        ("GET", "/api/2.0/files/@my", .anyOf(["files:read", "files:write"])),
        ("POST", "/api/2.0/files/folder/3", .anyOf(["files:write"])),
        ("GET", "/api/2.0/clients", .unreachable),
        ("POST", "/api/2.0/authentication", .unreachable),
        ("GET", "/api/2.0/filesystem", .unreachable),
        ("GET", "/api/2.0/peoplex", .unreachable),
    ])
    func routesMapToScopes(method: String, path: String, requirement: ScopeMap.Requirement) {
        #expect(ScopeMap.requirement(method: method, path: path) == requirement)
    }
}
