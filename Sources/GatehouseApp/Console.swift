import Foundation

/// What an operator must see however the process is connected — the owner's generated password,
/// where it serves: written to standard error at once with `write(2)`, never left in a buffer (under
/// systemd, redirected to a file or piped, `print`'s stdout buffer holds it until exit, and a `kill -9`
/// loses it). Log lines keep their own format and handler.
public enum Console {
    public static func announce(_ message: String) {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    }
}
