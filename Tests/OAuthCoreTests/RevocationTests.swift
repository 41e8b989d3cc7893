import OAuthCore
import Testing

/// The revocation feed's spelling is made and read in one place; every case survives the round trip.
@Suite struct RevocationTests {
    static let app = ClientID(rawValue: "0b5c1a3e-7d2f-4c61-9a8b-2f4e6d8c0a11")

    @Test(arguments: [
        Revocation.token(jti: "j-1"), .grant(id: "g-1"), .client(app), .consent(app, personID: "p-1"), .person(id: "p-1"),
        .clientChanged(app),
    ])
    func feedRoundTrip(revocation: Revocation) {
        #expect(Revocation(feedKind: revocation.feedKind, value: revocation.feedValue) == revocation)
    }

    @Test func unknownOrBrokenRowsAreNotRevocations() {
        #expect(Revocation(feedKind: "everything", value: "x") == nil)
        #expect(Revocation(feedKind: "consent", value: "no-person") == nil)
    }

    @Test func onlyAppEntriesDropCachedApps() {
        #expect(Revocation.client(Self.app).changedClient == Self.app)
        #expect(Revocation.clientChanged(Self.app).changedClient == Self.app)
        #expect(Revocation.consent(Self.app, personID: "p").changedClient == nil)
        #expect(Revocation.token(jti: "j").changedClient == nil)
    }
}
