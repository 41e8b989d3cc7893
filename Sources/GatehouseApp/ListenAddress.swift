#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore

/// Whether the server will be able to listen where the settings say, asked before anything is created
/// or changed (the database, the owner, the key file): a port in use or an address this machine does not
/// have is one line naming the setting, not a bind error after the owner was made.
public enum ListenAddress {
    /// The `GATEHOUSE_PORT` or `GATEHOUSE_HOST` line for a bind that failed after `check` passed
    /// (another process took the port in between); `nil` for any other error.
    public static func explain(_ error: any Error, host: String, port: Int) -> ConfigurationError? {
        guard let failure = error as? IOError else { return nil }
        return reason(errno: failure.errnoCode, host: host, port: port)
    }

    /// Binds a socket to `host:port` the way the server will (`SO_REUSEADDR`) and closes it again.
    public static func check(host: String, port: Int) throws {
        var hints = addrinfo()
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_PASSIVE
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found else {
            throw ConfigurationError(
                variable: "GATEHOUSE_HOST", reason: "\(host) is not an address this machine can listen on; use 127.0.0.1, 0.0.0.0 or one of its own addresses"
            )
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard descriptor >= 0 else { return }  // no socket to try with: the server will say what it finds
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 else { return }
        throw reason(errno: errno, host: host, port: port)
    }

    private static func reason(errno: Int32, host: String, port: Int) -> ConfigurationError {
        switch errno {
        case EADDRINUSE:
            ConfigurationError(variable: "GATEHOUSE_PORT", reason: "\(port) is already in use on \(host): stop the other process or choose another port")
        case EACCES:
            ConfigurationError(variable: "GATEHOUSE_PORT", reason: "\(port) needs privileges on \(host): choose a port above 1023, or put a proxy in front")
        case EADDRNOTAVAIL:
            ConfigurationError(
                variable: "GATEHOUSE_HOST", reason: "\(host) is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own addresses"
            )
        default:
            ConfigurationError(variable: "GATEHOUSE_HOST", reason: "cannot listen on \(host):\(port) (\(String(cString: strerror(errno))))")
        }
    }
}
