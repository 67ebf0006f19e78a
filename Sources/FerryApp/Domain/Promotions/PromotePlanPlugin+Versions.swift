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

    /// Translates `bundle` for a target running `targetVersion`.
    ///
    /// A target release Ferry doesn't know (older than the oldest known, newer than the newest,
    /// or not readable) fails the plan, unless the operator accepted importing as is: then the
    /// bundle goes untranslated and the log says so. `sourceVersion` only decides which added
    /// fields are reported as taking the target's defaults (an upgrade from a known release).
    static func translate(_ bundle: AssetBundle, sourceVersion: String, targetVersion: String, targetName: String,
                          acceptUnknown: Bool, context: TaskContext) throws -> Translation {
        let source = SupersetVersion(sourceVersion)
        let crossing = "\(source?.description ?? sourceVersion) → \(targetVersion)"
        let refusal: String
        switch ImportSchema.resolve(SupersetVersion(targetVersion)) {
        case .known(let schema, let exact):
            let translator = BundleTranslator(target: schema, source: ImportSchema.resolve(source).schema)
            let started = context.now()
            let (out, assets) = translator.translate(bundle)
            let milliseconds = Int(context.now().timeIntervalSince(started) * 1000)
            if !exact {
                context.log(.warning, "\(targetName) runs Superset \(targetVersion), between the releases Ferry knows: translated as for \(schema.version.series), the nearest older one (fields only newer releases accept are removed and listed)",
                            source: "bundle")
            }
            return Translation(bundle: out, assets: assets, summary: "\(crossing): translated for \(schema.version.series)", milliseconds: milliseconds)
        case .tooOld(let v):
            refusal = "\(targetName) runs Superset \(v), older than \(ImportSchema.known.first!.version.series), the oldest release Ferry translates bundles for"
        case .tooNew(let v):
            refusal = "\(targetName) runs Superset \(v), newer than \(ImportSchema.known.last!.version.series), the newest release Ferry knows"
        case .unknown:
            refusal = "Ferry couldn't read which Superset release \(targetName) runs (its /version said \"\(targetVersion.prefix(40))\")"
        }
        guard acceptUnknown else {
            throw TaskFailure(refusal + "; its importer may refuse the bundle, or drop fields without saying.",
                              next: "Upgrade \(targetName) to a release from \(ImportSchema.knownRange), or plan again accepting \"unknown version, import as is\".")
        }
        context.log(.warning, refusal + "; imported as is, untranslated, as the plan's author accepted", source: "bundle")
        return Translation(bundle: bundle, assets: [], summary: "\(crossing): untranslated (unknown version accepted)")
    }
}
