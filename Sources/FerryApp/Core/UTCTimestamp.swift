import Foundation

/// A date as `2026-12-03T08:15:32Z` (whole seconds, UTC), computed with integer arithmetic.
///
/// Pages show dozens of times each; `ISO8601DateFormatter` builds an ICU formatter per instance
/// (about 0.2 ms), which made half of a 50-row hub's render time. Pure: the same date gives
/// the same text; dates before 1970 and after 9999 are handled like any other (years are not
/// padded past four digits).
enum UTCTimestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    static func iso(_ date: Date) -> String { format(date, separator: 0x54, suffix: "Z") }

    /// Writes the date's fields as ASCII digits into one buffer (pages show dozens of times;
    /// string interpolation and a Foundation replace per time showed in profiles).
    private static func format(_ date: Date, separator: UInt8, suffix: String) -> String {
        // Out of range (not finite, or beyond ±142 million years): "?", never a trap.
        guard let seconds = Int(exactly: date.timeIntervalSince1970.rounded(.down)), seconds.magnitude < 1 << 52 else { return "?" }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int64(seconds - days * 86_400)
        let (year, month, day) = civil(days: Int64(days))
        var out: [UInt8] = []
        out.reserveCapacity(24)
        if year >= 0 && year < 1000 { out.append(contentsOf: repeatElement(0x30, count: 4 - String(year).count)) }
        out.append(contentsOf: String(year).utf8)
        func two(_ n: Int64) { out.append(0x30 + UInt8(n / 10)); out.append(0x30 + UInt8(n % 10)) }
        out.append(0x2D); two(month); out.append(0x2D); two(day)
        out.append(separator)
        two(secondOfDay / 3600); out.append(0x3A); two(secondOfDay % 3600 / 60); out.append(0x3A); two(secondOfDay % 60)
        out.append(contentsOf: suffix.utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// The civil (proleptic Gregorian) date `days` after 1970-01-01 (H. Hinnant's
    /// `civil_from_days`); negative days are before it.
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD HH:MM:SS UTC`, as pages show a time.
    static func text(_ date: Date) -> String { format(date, separator: 0x20, suffix: " UTC") }
}
