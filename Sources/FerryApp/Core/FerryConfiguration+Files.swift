import Foundation

extension FerryConfiguration {
    /// The largest file a `NAME_FILE` setting may name.
    static let maxFileVariableBytes = 65_536

    /// Settings that may come from a file instead (`NAME_FILE=/run/secrets/...`): how container
    /// secrets and systemd credentials hand them over without putting them in the environment.
    static let fileVariables = ["FERRY_SECRET_KEY", "DATABASE_URL", "FERRY_DATABASE_PASSWORD", "FERRY_ADMIN_PASSWORD"]

    /// `environment` with each `NAME_FILE` of `fileVariables` replaced by `NAME` holding the file's
    /// contents (one trailing line break dropped).
    ///
    /// Throws `ConfigurationError` naming the variable when both `NAME` and `NAME_FILE` are set,
    /// or the file can't be read, or it is larger than 64 KiB. Side effects: only `read`.
    static func resolvingFiles(_ environment: [String: String], read: (String) throws -> Data) throws -> [String: String] {
        var out = environment
        for name in fileVariables {
            guard let path = environment[name + "_FILE"], !path.isEmpty else { continue }
            if let direct = environment[name], !direct.isEmpty {
                throw ConfigurationError(variable: name + "_FILE", message: "set either \(name) or \(name)_FILE, not both")
            }
            let data: Data
            do { data = try read(path) } catch {
                throw ConfigurationError(variable: name + "_FILE", message: "can't read \(path): check that the file exists and Ferry's user may read it")
            }
            guard data.count <= maxFileVariableBytes else {
                throw ConfigurationError(variable: name + "_FILE", message: "\(path) is larger than 64 KiB: it should hold only the value")
            }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
            out[name] = text
            out[name + "_FILE"] = nil
        }
        return out
    }
}
