import Crypto
import Foundation

/// Random secrets and their stored form. Session cookies, API tokens, CSRF tokens and SSO states
/// are random; only their SHA-256 is stored, so a copy of the database signs no one in.
enum Credentials {
    /// `bytes` random bytes from the system's CSPRNG, base64url without padding.
    static func random(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return base64url(data)
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Hex SHA-256: the stored form of a random credential.
    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares without leaking, through timing, how much of the two matched.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// The PKCE S256 challenge of a verifier (RFC 7636).
    static func pkceChallenge(_ verifier: String) -> String {
        base64url(Data(SHA256.hash(data: Data(verifier.utf8))))
    }
}

/// Hashes and checks passwords with bcrypt, off the event loop.
///
/// Side effects: runs on the given thread pool (bcrypt is deliberately slow).
struct PasswordHasher: Sendable {
    var hash: @Sendable (String) async throws -> String
    var verify: @Sendable (String, String) async throws -> Bool
    /// A hash of a random password, at the same cost: checked against when a user doesn't exist,
    /// so an unknown username takes as long to refuse as a wrong password.
    var decoy: String

    /// Minimum length of a local password.
    static let minimumLength = 12
}
