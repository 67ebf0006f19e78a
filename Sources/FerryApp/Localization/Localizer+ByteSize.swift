import Foundation

extension Localizer {
    /// A byte count for people: "812 B", "4.2 MB" ("4,2 МБ" in Russian).
    func byteSize(_ bytes: Int64) -> String {
        let units = ["b", "kb", "mb", "gb", "tb"]
        var value = Double(max(0, bytes))
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        var number = unit == 0 ? String(max(0, bytes)) : String(format: "%.1f", value)
        if language == "ru" { number = number.replacingOccurrences(of: ".", with: ",") }
        return t("backups.size.\(units[unit])", ["n": number])
    }
}
