import Foundation
import ZIPFoundation

/// Reads a Superset export ZIP into an `AssetBundle`.
///
/// Preconditions: none; any bytes may be passed.
/// Guarantees: hostile archives (zip-slip or absolute paths, links, oversize, compression bombs,
/// lying size headers) are refused with a `BundleError` naming the entry, before their content
/// is expanded past the configured limits; so is hostile YAML (alias bombs, deep nesting,
/// integers outside Int64). Nothing touches the filesystem.
public struct BundleReader: Sendable {
    public var limits: BundleLimits

    public init(limits: BundleLimits = .default) {
        self.limits = limits
    }

    public func read(_ data: Data) throws -> AssetBundle {
        let files = try extract(data)
        guard let metaText = files["metadata.yaml"] else { throw BundleError.missingMetadata }
        var budget = limits.maxYAMLTotalNodes
        guard case .map(let metadata) = try BundleValue.parseYAML(metaText, path: "metadata.yaml", limits: limits, budget: &budget) else {
            throw BundleError.invalidYAML(path: "metadata.yaml", message: "expected a mapping")
        }
        var bundle = AssetBundle(metadata: metadata)
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            guard path.hasSuffix(".yaml") || path.hasSuffix(".yml"),
                let folder = path.split(separator: "/").first,
                let kind = AssetKind.allCases.first(where: { $0.folder == folder })
            else { continue }
            guard case .map(let fields) = try BundleValue.parseYAML(text, path: path, limits: limits, budget: &budget) else {
                throw BundleError.invalidYAML(path: path, message: "expected a mapping")
            }
            guard let uuid = fields["uuid"]?.stringValue, !uuid.isEmpty else {
                throw BundleError.missingField(path: path, field: "uuid")
            }
            bundle.insert(Asset(kind: kind, fields: fields))
        }
        return bundle
    }

    /// Validates and expands the archive. Returns text files keyed by their path below the top
    /// folder.
    func extract(_ data: Data) throws -> [String: String] {
        guard data.count <= limits.maxArchiveBytes else {
            throw BundleError.tooLarge("\(data.count) bytes, limit \(limits.maxArchiveBytes)")
        }
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw BundleError.notAZip
        }
        var entries: [Entry] = []
        var declaredTotal = 0
        for entry in archive {
            entries.append(entry)
            guard entries.count <= limits.maxEntries else { throw BundleError.tooManyEntries(limits.maxEntries) }
            let path = entry.path
            try Self.checkPath(path)
            if entry.type == .symlink { throw BundleError.link(path) }
            guard entry.type == .file else { continue }
            let size = Int(clamping: entry.uncompressedSize)
            guard size <= limits.maxEntryBytes else {
                throw BundleError.tooLarge("entry '\(path)' expands to \(size) bytes, limit \(limits.maxEntryBytes)")
            }
            declaredTotal += size
            guard declaredTotal <= limits.maxTotalBytes else {
                throw BundleError.tooLarge("expanded content exceeds \(limits.maxTotalBytes) bytes")
            }
            if size > limits.ratioFloorBytes, size / max(Int(entry.compressedSize), 1) > limits.maxCompressionRatio {
                throw BundleError.compressionBomb(path)
            }
        }
        let fileEntries = entries.filter { $0.type == .file }
        guard !fileEntries.isEmpty else { throw BundleError.missingMetadata }
        let tops = Set(fileEntries.map { $0.path.split(separator: "/", omittingEmptySubsequences: true).first.map(String.init) ?? "" })
        guard tops.count == 1, fileEntries.allSatisfy({ $0.path.contains("/") }) else { throw BundleError.noTopFolder }
        let top = tops.first! + "/"

        var files: [String: String] = [:]
        var expandedTotal = 0
        for entry in fileEntries {
            let declared = Int(clamping: entry.uncompressedSize)
            var buffer = Data()
            buffer.reserveCapacity(min(declared, 1 << 20))
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    buffer.append(chunk)
                    // A header may lie about the size: enforce the bound on what really expands.
                    if buffer.count > max(declared, 0) || buffer.count > limits.maxEntryBytes {
                        throw BundleError.compressionBomb(entry.path)
                    }
                }
            } catch let error as BundleError {
                throw error
            } catch {
                throw BundleError.invalidYAML(path: entry.path, message: "cannot be expanded (\(error))")
            }
            expandedTotal += buffer.count
            guard expandedTotal <= limits.maxTotalBytes else {
                throw BundleError.tooLarge("expanded content exceeds \(limits.maxTotalBytes) bytes")
            }
            let relative = String(entry.path.dropFirst(top.count))
            guard let text = String(data: buffer, encoding: .utf8) else {
                if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
                    throw BundleError.invalidYAML(path: relative, message: "not UTF-8 text")
                }
                continue
            }
            files[relative] = text
        }
        return files
    }

    static func checkPath(_ path: String) throws {
        if path.isEmpty || path.hasPrefix("/") || path.hasPrefix("\\") || path.contains("\\") || path.contains("\0") {
            throw BundleError.unsafePath(path)
        }
        if path.count >= 2, path.dropFirst().first == ":" { throw BundleError.unsafePath(path) }  // C:...
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0 == ".." || $0 == "." }) { throw BundleError.unsafePath(path) }
    }
}
