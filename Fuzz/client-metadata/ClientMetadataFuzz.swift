import Foundation
import OAuthCore

/// The reader of Client ID Metadata Documents (SPEC §6) and of client identifier URLs. Promises: an
/// accepted document is a JSON object of at most 5 KB whose client_id is exactly the URL, with no
/// secret, read as a public client whose redirect URIs pass the registration rules and whose scopes
/// are the catalog's; a string taken as a document URL is an https URL with a host and a path, no
/// user, password, fragment or dot segments, printable ASCII, at most 2048 bytes.
private let url = "https://client.example/oauth/app.json"
private let catalog = Set(ScopeCatalog.all.map(\.name))

func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(UnsafeBufferPointer(start: start, count: count))
    if case .success(let decided) = ClientMetadataDocument.read(data, url: url) {
        guard count <= ClientMetadataDocument.maximumSize,
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              (object["client_id"] as? String).map({ Array($0.utf8) == Array(url.utf8) }) == true,
              object["client_secret"] == nil, object["client_secret_expires_at"] == nil
        else { fatalError("promise broken: accepted a document that is not this app's, or has a secret") }
        guard decided.authMethod == "none", !decided.confidential, decided.registration.allowPKCE else {
            fatalError("promise broken: a document's app is not a public client")
        }
        let redirects = decided.registration.redirectURIs
        guard !redirects.isEmpty, redirects.allSatisfy({ URLRules.redirectURIProblem($0) == nil }) else {
            fatalError("promise broken: redirect URIs \(redirects) pass no registration rule")
        }
        guard Set(decided.registration.scopes).isSubset(of: catalog) else {
            fatalError("promise broken: scopes \(decided.registration.scopes) outside the catalog")
        }
    }
    let text = String(decoding: data, as: UTF8.self)
    if ClientMetadataDocument.isDocumentURL(text) {
        guard text.utf8.count <= ClientMetadataDocument.maximumURLLength, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              let components = URLComponents(string: text), components.scheme == "https", components.host?.isEmpty == false,
              components.user == nil, components.password == nil, components.fragment == nil, !text.contains("#"),
              components.percentEncodedPath.count > 1
        else { fatalError("promise broken: \(text.debugDescription) was taken as a document URL") }
        let segments = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false)
        for segment in segments where [".", ".."].contains(segment.removingPercentEncoding ?? String(segment)) {
            fatalError("promise broken: \(text.debugDescription) has a dot segment")
        }
        guard let id = ClientID(validating: text), Array(id.rawValue.utf8) == Array(text.utf8) else {
            fatalError("promise broken: ClientID changed \(text.debugDescription)")
        }
    }
    return 0
}
