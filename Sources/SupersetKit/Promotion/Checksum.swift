import Crypto
import Foundation

/// SHA-256 digests as lower-case hex.
public enum Checksum {
    public static func sha256Hex(_ text: String) -> String { sha256Hex(Data(text.utf8)) }
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
