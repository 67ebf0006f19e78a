import Foundation

extension Localizer {
    /// A plugin's name for people ("Inventory sync", not `inventory.sync`): the catalogue's
    /// `plugin.<id>`, or the id itself for a plugin the catalogue doesn't name (one added by a
    /// deployment), so it is never blank.
    func pluginName(_ id: String) -> String {
        let name = t("plugin.\(id)")
        return name == "plugin.\(id)" ? id : name
    }
}
