import Crypto
import Foundation

/// Encrypts secrets at rest with AES-256-GCM.
///
/// Format: base64 of `v1` marker byte + 12-byte nonce + ciphertext + 16-byte tag (the combined
/// `SealedBox` form). Each seal uses a fresh random nonce.
/// Invariant: plaintext never leaves this type except as the return of `open`.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    public func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
        guard let combined = box.combined else { throw SecretBoxError.sealFailed }
        return (Data([1]) + combined).base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed), data.first == 1 else { throw SecretBoxError.malformed }
        do {
            let box = try AES.GCM.SealedBox(combined: data.dropFirst())
            return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
        } catch {
            throw SecretBoxError.wrongKey
        }
    }

    /// The key from `FERRY_SECRET_KEY` (base64), or from `<dataDirectory>/secret.key`. The file is
    /// created on first use exclusively (`O_CREAT | O_EXCL`, mode 0600); an existing one is read
    /// and never overwritten, also when another process created it a moment earlier.
    public static func load(configuration: FerryConfiguration, fileManager: FileManager = .default) throws -> SecretBox {
        if let b64 = configuration.secretKey, let data = Data(base64Encoded: b64) {
            return SecretBox(key: SymmetricKey(data: data))
        }
        try DataDirectory.createDirectory(configuration.dataDirectory, fileManager: fileManager)
        let path = (configuration.dataDirectory as NSString).appendingPathComponent("secret.key")
        if let existing = fileManager.contents(atPath: path) { return try SecretBox(keyFile: existing, path: path) }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n"
        if try DataDirectory.createExclusively(path, contents: Data(text.utf8)) { return SecretBox(key: key) }
        // Another process made the file between the read and the create: use its key.
        guard let existing = fileManager.contents(atPath: path) else { throw SecretBoxError.badKeyFile(path) }
        return try SecretBox(keyFile: existing, path: path)
    }

    /// The key stored in a key file's contents (base64 of 32 bytes).
    init(keyFile contents: Data, path: String) throws {
        guard let data = Data(base64Encoded: String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
            data.count == 32
        else { throw SecretBoxError.badKeyFile(path) }
        self.init(key: SymmetricKey(data: data))
    }
}

public enum SecretBoxError: Error, Equatable, CustomStringConvertible {
    case sealFailed, malformed, wrongKey
    case badKeyFile(String)

    public var description: String {
        switch self {
        case .sealFailed: return "could not encrypt a secret"
        case .malformed: return "a stored secret is malformed"
        case .wrongKey: return "a stored secret cannot be decrypted: FERRY_SECRET_KEY (or var/secret.key) is not the key it was stored with"
        case .badKeyFile(let p): return "the key file \(p) is unreadable or not base64 of 32 bytes"
        }
    }
}
