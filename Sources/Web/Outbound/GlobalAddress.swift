import Foundation

/// Whether an IP address is globally routable (SPEC §6: outbound fetches of documents that strangers
/// name refuse everything else). Pure, on the address's bytes; the special-purpose blocks are those of
/// the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates).
enum GlobalAddress {
    /// An IPv4 address (4 bytes) or IPv6 address (16 bytes) that may be fetched from.
    static func isGlobal(_ bytes: [UInt8]) -> Bool {
        switch bytes.count {
        case 4: isGlobalIPv4(bytes)
        case 16: isGlobalIPv6(bytes)
        default: false
        }
    }

    /// The address in `text` (dotted IPv4 or IPv6, brackets allowed) as bytes; `nil` when it is not one.
    static func bytes(of text: String) -> [UInt8]? {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    private static func isGlobalIPv4(_ b: [UInt8]) -> Bool {
        let (a, c) = (b[0], b[1])
        switch a {
        case 0, 10, 127: return false                       // "this network", private, loopback
        case 100 where (64...127).contains(c): return false // shared address space (CGNAT, RFC 6598)
        case 169 where c == 254: return false               // link-local (cloud metadata at 169.254.169.254)
        case 172 where (16...31).contains(c): return false  // private
        case 192 where c == 168: return false               // private
        case 192 where c == 0 && b[2] == 0: return false    // IETF protocol assignments
        case 192 where c == 0 && b[2] == 2: return false    // documentation (TEST-NET-1)
        case 198 where c == 18 || c == 19: return false     // benchmarking
        case 198 where c == 51 && b[2] == 100: return false // documentation (TEST-NET-2)
        case 203 where c == 0 && b[2] == 113: return false  // documentation (TEST-NET-3)
        case 224...255: return false                        // multicast, reserved, broadcast
        default: return true
        }
    }

    private static func isGlobalIPv6(_ b: [UInt8]) -> Bool {
        // Only global unicast, 2000::/3; everything else (::1, ::, ::ffff:0:0/96 IPv4-mapped, 64:ff9b::/96,
        // fc00::/7 unique local, fe80::/10 link-local, ff00::/8 multicast) is refused outright.
        guard b[0] & 0xE0 == 0x20 else { return false }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return false }  // 2001:db8::/32 documentation
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x00, b[3] == 0x00 { return false }  // 2001::/32 Teredo (tunnels to IPv4)
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x00, b[3] & 0xF0 == 0x10 { return false }  // 2001:10::/28 ORCHID
        if b[0] == 0x20, b[1] == 0x02 { return isGlobalIPv4(Array(b[2..<6])) }   // 6to4: the IPv4 address inside decides
        return true
    }
}
