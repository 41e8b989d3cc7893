import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Outbound HTTPS requests for documents that strangers name (SPEC §6: client metadata documents).
/// The host is resolved here and every address it resolves to must be globally routable; the
/// connection then goes to the very address that was checked (AsyncHTTPClient's DNS override, so no
/// second lookup can be rebound), with the certificate still checked for the host name. No redirect
/// is followed, nothing larger than `maximumBytes` is read, and the whole fetch ends after `timeout`.
public struct OutboundFetcher: Sendable {
    /// `GATEHOUSE_OUTBOUND_ALLOW_PRIVATE`: private, loopback and link-local targets are allowed (tests, labs).
    public let allowPrivate: Bool
    /// `GATEHOUSE_OUTBOUND_CA_FILE`: PEM certificates trusted besides the system's.
    public let extraTrustRoots: [NIOSSLCertificate]
    public let timeout: Duration
    public let maximumBytes: Int

    public init(allowPrivate: Bool, caFile: String?, timeout: Duration = .seconds(5), maximumBytes: Int) throws {
        self.allowPrivate = allowPrivate
        self.extraTrustRoots = try caFile.map { try NIOSSLCertificate.fromPEMFile($0) } ?? []
        self.timeout = timeout
        self.maximumBytes = maximumBytes
    }

    /// A fetched document.
    public struct Fetched: Sendable {
        public var body: Data
        public var cacheControl: String?
    }

    /// Why a fetch was refused: `description` for the error page (what the requester may know), `detail`
    /// for the log (resolved addresses, the underlying error).
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let description: String
        public let detail: String
        init(_ description: String, detail: String = "") {
            self.description = description
            // One log line: control characters (a newline would start a forged line) are dropped.
            self.detail = String(detail.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init).prefix(500))
        }
    }

    /// Fetches at once in this process, at most; more are refused until one ends.
    public static let maximumConcurrentFetches = 8
    private static let inFlight = Atomic<Int>(0)

    /// GETs `url` (https only) under the rules above.
    public func get(_ url: String) async throws(Refusal) -> Fetched {
        // The host exactly as async-http-client reads it (Foundation's URL, IDNA names left in their
        // xn-- form), so that the address checked is the one its DNS override maps.
        guard let parsed = URL(string: url), parsed.scheme == "https", let host = parsed.host, !host.isEmpty else {
            throw Refusal("Only https URLs are fetched.")
        }
        let port = parsed.port ?? 443
        guard Self.inFlight.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maximumConcurrentFetches else {
            Self.inFlight.wrappingSubtract(1, ordering: .relaxed)
            throw Refusal("The portal is fetching too many documents at once; try again shortly.")
        }
        defer { Self.inFlight.wrappingSubtract(1, ordering: .relaxed) }
        let slow = Refusal("The server did not answer within \(timeout.components.seconds) seconds.")
        do {
            // The lookup is inside the time limit; a lookup that hangs is left behind, not waited for.
            guard let fetched = try await Self.within(timeout, {
                let address = try await checkedAddress(host: host, port: port)
                return try await fetch(url, host: host, address: address)
            }) else { throw slow }
            return fetched
        } catch let refusal as Refusal {
            throw refusal
        } catch is CancellationError {
            throw slow
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw slow
        } catch let error as NIOSSLError {
            throw Refusal("The TLS connection failed.", detail: "\(error)")
        } catch {
            throw Refusal("The fetch failed.", detail: String(describing: error))
        }
    }

    /// Runs `work`, answering `nil` once `timeout` has passed without waiting for it to end (a DNS
    /// lookup cannot be cancelled; async-http-client's request is cancelled).
    static func within<T: Sendable>(_ timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T? {
        let once = ResumedOnce<T?>()
        return try await withCheckedThrowingContinuation { continuation in
            once.continuation.withLock { $0 = continuation }
            let task = Task {
                do { _ = once.finish(.success(try await work())) } catch { _ = once.finish(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if once.finish(.success(nil)) { task.cancel() }
            }
        }
    }

    /// The address to connect to: every address the host resolves to must be allowed (one that
    /// is not means the name cannot be trusted), and the first is used.
    private func checkedAddress(host: String, port: Int) async throws -> String {
        let addresses: [String]
        if GlobalAddress.bytes(of: host) != nil {
            addresses = [host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))]
        } else {
            addresses = try await Self.resolve(host, port: port)
        }
        guard let first = addresses.first else { throw Refusal("The host name \(host) could not be resolved.") }
        if !allowPrivate {
            for address in addresses where !(GlobalAddress.bytes(of: address).map(GlobalAddress.isGlobal) ?? false) {
                throw Refusal("The document's host is not a public internet address.", detail: "\(host) resolves to \(address)")
            }
        }
        return first
    }

    private func fetch(_ url: String, host: String, address: String) async throws -> Fetched {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = extraTrustRoots.isEmpty ? [] : [.certificates(extraTrustRoots)]
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .init(timeout), read: .init(timeout)), decompression: .disabled
        )
        // Connect to the address that was checked; the certificate is still checked for `host`.
        configuration.dnsOverride = [host: address]
        configuration.connectionPool = .init(idleTimeout: .seconds(1))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Gatehouse")
            let response = try await client.execute(request, timeout: .init(timeout))
            guard response.status == .ok else {
                let redirect = (300..<400).contains(Int(response.status.code))
                throw Refusal(redirect ? "The server answered with a redirect (\(response.status.code)); redirects are not followed."
                                       : "The server answered \(response.status.code), not 200.")
            }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maximumBytes {
                throw Refusal("The document is larger than \(maximumBytes) bytes.")
            }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: maximumBytes)
            } catch is NIOTooManyBytesError {
                throw Refusal("The document is larger than \(maximumBytes) bytes.")
            }
            try? await client.shutdown()
            return Fetched(body: Data(buffer: body), cacheControl: response.headers.first(name: "Cache-Control"))
        } catch {
            // Shutting down waits for the connection to close; the refusal need not wait for it.
            Task { try? await client.shutdown() }
            throw error
        }
    }

    /// Every address `host` resolves to (getaddrinfo, which blocks: on a thread of Dispatch's, never
    /// on the pool that hashes passwords).
    private static func resolve(_ host: String, port: Int) async throws -> [String] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(with: Result { try resolveNow(host, port: port) })
            }
        }
    }

    private static func resolveNow(_ host: String, port: Int) throws -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let list else {
            throw Refusal("The host name \(host) could not be resolved.")
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var next: UnsafeMutablePointer<addrinfo>? = list
        while let entry = next {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if let address = entry.pointee.ai_addr {
                switch entry.pointee.ai_family {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        var a = v4.pointee.sin_addr
                        _ = inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        var a = v6.pointee.sin6_addr
                        _ = inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
                    }
                default: break
                }
            }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !text.isEmpty, !addresses.contains(text) { addresses.append(text) }
            next = entry.pointee.ai_next
        }
        return addresses
    }
}

/// A continuation resumed by whichever of two tasks finishes first.
private final class ResumedOnce<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func finish(_ result: Result<T, any Error>) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
}
