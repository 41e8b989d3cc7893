import Crypto
import Foundation
import Hummingbird

/// Who may read `/metrics` (SPEC §5): they name routes, outcomes and the database's load, which is
/// for the operator, not the public. A bearer equal to `GATEHOUSE_METRICS_TOKEN` (compared in
/// constant time), or a request from one of the trusted addresses (loopback by default).
public struct MetricsAccess: Sendable {
    /// SHA-256 of the metrics token, when one is set.
    let tokenDigest: SHA256.Digest?
    let trustedAddresses: Set<String>

    /// The loopback addresses, and "local" for a peer without an address (a Unix socket).
    public static let loopback: Set<String> = ["127.0.0.1", "::1", "local"]

    public init(token: String?, trustedAddresses: Set<String> = MetricsAccess.loopback) {
        self.tokenDigest = token.map { SHA256.hash(data: Data($0.utf8)) }
        self.trustedAddresses = trustedAddresses
    }

    func allows(_ request: Request, context: AppRequestContext) -> Bool {
        if let tokenDigest, let offered = AccessTokenVerifier.bearerCredentials(request.headers.value(.authorization)) {
            // Equal-length digests compared by Crypto's constant-time `==`.
            return SHA256.hash(data: Data(offered.utf8)) == tokenDigest
        }
        return trustedAddresses.contains(context.clientAddress)
    }
}
