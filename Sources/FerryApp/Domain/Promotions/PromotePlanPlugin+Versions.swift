import Foundation
import SupersetKit

/// The plan's translation of a bundle to the target's Superset release (issue 18): one step
/// shared by promotions, restores and deploys, since all three plan through `promote.plan`.
extension PromotePlanPlugin {
    /// What translating gave: the bundle to import and what it did to each asset.
    struct Translation {
        var bundle: AssetBundle
        var assets: [AssetTranslation]
        /// A line for the log and the plan's result: "6.1.0 → 5.0.0: translated for 5.0".
        var summary: String
        /// How long translating took, on the task's clock (bench/promote.sh reports it).
        var milliseconds: Int = 0
    }

    /// Judges the target's release before anything is exported: the schema to translate to, or
    /// nil when the release is one Ferry doesn't know and the operator accepted importing as is.
    /// Throws, naming the release and the ways out, when it isn't accepted.
    static func admit(targetVersion: String, targetName: String, acceptUnknown: Bool, context: TaskContext) throws -> ImportSchema? {
        let refusal: String
        switch ImportSchema.resolve(SupersetVersion(targetVersion)) {
        case .known(let schema, let exact):
            if !exact {
                context.log(.warning, "\(targetName) runs Superset \(targetVersion), between the releases Ferry knows: translated as for \(schema.version.series), the nearest older one (fields only newer releases accept are removed, even those \(targetVersion) would take, and listed)",
                            source: "bundle")
            }
            return schema
        case .tooOld(let v):
            refusal = "\(targetName) runs Superset \(v), older than \(ImportSchema.known.first!.version.series), the oldest release Ferry translates bundles for"
        case .tooNew(let v):
            refusal = "\(targetName) runs Superset \(v), newer than \(ImportSchema.known.last!.version.series), the newest release Ferry knows"
        case .unknown:
            refusal = targetVersion == "unknown"
                ? "Ferry couldn't read which Superset release \(targetName) runs (neither GET /version nor its sign-in page says)"
                : "Ferry doesn't know the Superset release \(targetName) says it runs (\"\(targetVersion.prefix(40))\")"
        }
        guard acceptUnknown else {
            throw TaskFailure(refusal + "; its importer may refuse the bundle, or drop fields without saying. Nothing was exported.",
                              nextKey: "unknown_version", ["target": targetName, "oldest": "\(ImportSchema.known.first!.version.series)",
                                                                          "newest": "\(ImportSchema.known.last!.version.series)"])
        }
        context.log(.warning, refusal + "; the bundle is imported as is, untranslated, as the plan's author accepted", source: "bundle")
        return nil
    }

    /// Translates `bundle` to `schema` (nil: untranslated, see `admit`). `sourceVersion` only
    /// decides which added fields are reported as taking the target's defaults (an upgrade from
    /// a known release).
    static func translate(_ bundle: AssetBundle, to schema: ImportSchema?, sourceVersion: String, targetVersion: String, context: TaskContext) -> Translation {
        let source = SupersetVersion(sourceVersion)
        let crossing = "\(source?.description ?? sourceVersion) → \(targetVersion)"
        guard let schema else {
            return Translation(bundle: bundle, assets: [], summary: "\(crossing): untranslated (unknown version accepted)")
        }
        let translator = BundleTranslator(target: schema, source: ImportSchema.resolve(source).schema)
        let started = context.now()
        let (out, assets) = translator.translate(bundle)
        let milliseconds = Int(context.now().timeIntervalSince(started) * 1000)
        return Translation(bundle: out, assets: assets, summary: "\(crossing): translated for \(schema.version.series)", milliseconds: milliseconds)
    }
}
