import Foundation
import Testing

@testable import FerryApp

@Suite struct CronTests {
    let utc = TimeZone(identifier: "UTC")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    func date(_ s: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: s)!
    }

    func iso(_ d: Date?, _ zone: TimeZone) -> String {
        guard let d else { return "nil" }
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    func runs(_ cron: String, after: String, count: Int, zone: TimeZone) throws -> [String] {
        let c = try CronExpression(cron)
        var out: [String] = []
        var t = date(after)
        for _ in 0..<count {
            guard let n = c.next(after: t, in: zone) else { break }
            out.append(iso(n, zone))
            t = n
        }
        return out
    }

    @Test func rangesStepsAndLists() throws {
        #expect(try runs("*/15 9-10 * * *", after: "2026-03-02T08:59:00Z", count: 5, zone: utc) ==
                ["2026-03-02T09:00:00Z", "2026-03-02T09:15:00Z", "2026-03-02T09:30:00Z", "2026-03-02T09:45:00Z", "2026-03-02T10:00:00Z"])
        #expect(try runs("5,10 0 1,15 * *", after: "2026-03-01T00:05:00Z", count: 3, zone: utc) ==
                ["2026-03-01T00:10:00Z", "2026-03-15T00:05:00Z", "2026-03-15T00:10:00Z"])
        #expect(try runs("0 12 * * 1-5/2", after: "2026-03-02T12:00:00Z", count: 3, zone: utc) ==
                ["2026-03-04T12:00:00Z", "2026-03-06T12:00:00Z", "2026-03-09T12:00:00Z"])  // Mon, Wed, Fri
    }

    @Test func monthAndWeekdayNames() throws {
        #expect(try runs("30 2 * FEB,MAR sun", after: "2026-01-10T00:00:00Z", count: 2, zone: utc) ==
                ["2026-02-01T02:30:00Z", "2026-02-08T02:30:00Z"])
        #expect(try runs("0 0 * * 7", after: "2026-03-02T00:00:00Z", count: 1, zone: utc) == ["2026-03-08T00:00:00Z"])  // 7 is Sunday
        // Day-of-month and day-of-week both restricted: either matches.
        #expect(try runs("0 0 13 * FRI", after: "2026-03-01T00:00:00Z", count: 3, zone: utc) ==
                ["2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"])
        #expect(try runs("0 0 30 2 *", after: "2026-01-01T00:00:00Z", count: 1, zone: utc) == [])
    }

    @Test func aTimeSkippedBySpringForwardRunsOnceAfterTheGap() throws {
        // Berlin 2026-03-29: 02:00 -> 03:00.
        #expect(try runs("30 2 * * *", after: "2026-03-28T12:00:00Z", count: 3, zone: berlin) ==
                ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"])
        // Every 20 minutes through the gap: 01:40, then 03:00 once for the skipped 02:xx, then 03:20.
        #expect(try runs("*/20 * * * *", after: "2026-03-29T00:30:00Z", count: 4, zone: berlin) ==
                ["2026-03-29T01:40:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:20:00+02:00", "2026-03-29T03:40:00+02:00"])
    }

    @Test func aTimeRepeatedByFallBackRunsOnce() throws {
        // Berlin 2026-10-25: 03:00 -> 02:00; 02:30 happens twice.
        let r = try runs("30 2 * * *", after: "2026-10-24T12:00:00Z", count: 2, zone: berlin)
        #expect(r == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"])
        let hourly = try runs("0 * * * *", after: "2026-10-24T23:30:00Z", count: 4, zone: berlin)
        #expect(hourly == ["2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00", "2026-10-25T05:00:00+01:00"])
    }

    @Test(arguments: [
        ("* * * *", "needs 5"), ("60 * * * *", "minute: 60 is out of range 0-59"), ("* 24 * * *", "hour: 24"),
        ("* * 0 * *", "day-of-month: 0"), ("* * * 13 *", "month: 13"), ("* * * FOO *", "month: 'FOO'"),
        ("*/0 * * * *", "step '0'"), ("5-1 * * * *", "runs backwards"), ("1,,2 * * * *", "empty item"), ("* * * * 8", "day-of-week: 8"),
    ])
    func invalidExpressionsSayWhatIsWrong(cron: String, message: String) {
        #expect {
            _ = try CronExpression(cron)
        } throws: { error in
            (error as? CronExpression.ParseError)?.message.contains(message) == true
        }
    }
}
