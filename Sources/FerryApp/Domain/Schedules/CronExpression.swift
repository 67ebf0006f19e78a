import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week) in a time zone.
///
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b,c`, month names
/// (JAN-DEC) and weekday names (SUN-SAT; 0 and 7 are Sunday). As in classic cron, when both
/// day-of-month and day-of-week are restricted, a day matching either runs.
///
/// Daylight saving: a wall-clock time skipped by a spring-forward gap runs once at the first
/// instant after the gap; a wall-clock time repeated by a fall-back overlap runs once, at its
/// first occurrence. Pure: no clock, no I/O.
public struct CronExpression: Sendable, Equatable {
    public let text: String
    let minutes: [Int]
    let hours: [Int]
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        /// The catalogue's `field.<key>` in English (a form shows it in its reader's language).
        init(key: String, _ values: [String: String]) {
            message = TaskText.text("field.\(key)", values)
        }
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ text: String) throws {
        self.text = text.trimmingCharacters(in: .whitespaces)
        let parts = self.text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard parts.count == 5 else {
            throw ParseError(key: "cron_fields", ["text": text, "count": String(parts.count)])
        }
        minutes = try Self.field(parts[0], "minute", 0...59, names: []).sorted()
        hours = try Self.field(parts[1], "hour", 0...23, names: []).sorted()
        days = Set(try Self.field(parts[2], "day-of-month", 1...31, names: []))
        months = Set(try Self.field(parts[3], "month", 1...12, names: Self.monthNames, nameBase: 1))
        weekdays = Set(try Self.field(parts[4], "day-of-week", 0...7, names: Self.dayNames).map { $0 == 7 ? 0 : $0 })
        daysRestricted = parts[2] != "*"
        weekdaysRestricted = parts[4] != "*"
    }

    static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String], nameBase: Int = 0) throws -> [Int] {
        func value(_ s: String) throws -> Int {
            if let n = Int(s) {
                guard range.contains(n) else { throw ParseError(key: "cron_range", ["name": name, "value": String(n), "low": String(range.lowerBound), "high": String(range.upperBound)]) }
                return n
            }
            if let i = names.firstIndex(of: s.uppercased()) { return i + nameBase }
            throw names.isEmpty ? ParseError(key: "cron_not_number", ["name": name, "value": s])
                : ParseError(key: "cron_not_number_or_name", ["name": name, "value": s, "first": names.first!, "last": names.last!])
        }
        var out = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw ParseError(key: "cron_empty_item", ["name": name, "text": text]) }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard stepParts.count <= 2 else { throw ParseError(key: "cron_two_slashes", ["name": name, "item": item]) }
            var step = 1
            if stepParts.count == 2 {
                guard let s = Int(stepParts[1]), s > 0 else { throw ParseError(key: "cron_step", ["name": name, "step": stepParts[1]]) }
                step = s
            }
            let base = stepParts[0]
            let lower: Int, upper: Int
            if base == "*" {
                (lower, upper) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                lower = try value(String(base[..<dash]))
                upper = try value(String(base[base.index(after: dash)...]))
                guard lower <= upper else { throw ParseError(key: "cron_backwards", ["name": name, "range": base]) }
            } else {
                lower = try value(base)
                upper = stepParts.count == 2 ? range.upperBound : lower
            }
            out.formUnion(stride(from: lower, through: upper, by: step))
        }
        return Array(out)
    }

    func dayMatches(day: Int, month: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }

    /// The first run strictly after `date`, or nil if there is none within eight years
    /// (for example 30 February).
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        let startDay = cal.startOfDay(for: date)
        for offset in 0..<(366 * 8) {
            guard let dayStart = cal.date(byAdding: .day, value: offset, to: startDay) else { return nil }
            let c = cal.dateComponents([.year, .month, .day, .weekday], from: dayStart)
            guard let y = c.year, let m = c.month, let d = c.day, let wd = c.weekday,
                  dayMatches(day: d, month: m, weekday: wd - 1) else { continue }
            for h in hours {
                for minute in minutes {
                    guard let candidate = instant(year: y, month: m, day: d, hour: h, minute: minute, cal: cal) else { continue }
                    if candidate > date { return candidate }
                }
            }
        }
        return nil
    }

    /// The instant of a wall-clock time; in a DST gap, the first instant after the gap; in an
    /// overlap, the first occurrence.
    func instant(year: Int, month: Int, day: Int, hour: Int, minute: Int, cal: Calendar) -> Date? {
        let wanted = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        guard let guess = cal.date(from: wanted) else { return nil }
        let got = cal.dateComponents([.year, .month, .day, .hour, .minute], from: guess)
        if got.day == day && got.hour == hour && got.minute == minute {
            // In an overlap both instants show this wall time: take the earlier one.
            let earlier = guess.addingTimeInterval(-3600)
            let e = cal.dateComponents([.day, .hour, .minute], from: earlier)
            if e.day == day && e.hour == hour && e.minute == minute { return earlier }
            return guess
        }
        // Skipped by a gap: run when the clocks jump, at the transition.
        let dayStart = cal.date(from: DateComponents(year: year, month: month, day: day)) ?? guess
        if let transition = cal.timeZone.nextDaylightSavingTimeTransition(after: dayStart), transition <= guess.addingTimeInterval(3600) {
            return transition
        }
        return guess
    }
}
