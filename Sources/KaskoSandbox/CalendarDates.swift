// Dates of the checkout: the quote's policy_start_date ("YYYY-MM-DD"),
// the policy's start and end ("...T00:00:00+00:00"), ISO times of offers and
// policies, and the HTTP-date of Last-Modified.
//
// All in UTC with timegm/gmtime_r, like Timestamps: no DateFormatter on the
// event loops.

import Foundation

/// A day of the Gregorian calendar, as the quote's policy_start_date gives it.
struct CalendarDay: Equatable, Sendable {
    let year: Int
    let month: Int
    let day: Int

    /// Parses exactly "YYYY-MM-DD" naming a real day (2026-02-30 is refused).
    static func parse(_ text: String) -> CalendarDay? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              year >= 1900, (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let candidate = CalendarDay(year: year, month: month, day: day)
        // timegm normalises 02-30 to 03-02: a real day survives the round trip.
        guard let seconds = candidate.epochSeconds, CalendarDay(epochSeconds: seconds) == candidate else { return nil }
        return candidate
    }

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    init?(epochSeconds: Int) {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return nil }
        self.init(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday))
    }

    static func today() -> CalendarDay {
        CalendarDay(epochSeconds: Int(time(nil))) ?? CalendarDay(year: 1970, month: 1, day: 1)
    }

    /// Midnight UTC of this day; nil if out of time_t's range.
    var epochSeconds: Int? {
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        let seconds = timegm(&parts)
        // -1 is timegm's error; no midnight is one second before the epoch.
        return seconds == -1 ? nil : Int(seconds)
    }

    func addingDays(_ days: Int) -> CalendarDay {
        guard let seconds = epochSeconds, let later = CalendarDay(epochSeconds: seconds + days * 86_400) else {
            return self
        }
        return later
    }

    /// The same day a year later; 29 February becomes 1 March.
    func addingOneYear() -> CalendarDay {
        var parts = tm()
        parts.tm_year = Int32(year + 1 - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        let seconds = timegm(&parts)
        return CalendarDay(epochSeconds: Int(seconds)) ?? self
    }

    /// "2026-12-02".
    var text: String {
        "\(Timestamps.pad(year, 4))-\(Timestamps.pad(month, 2))-\(Timestamps.pad(day, 2))"
    }

    /// "2026-12-02T00:00:00+00:00", as policies give start and end dates.
    var midnightISO: String { text + "T00:00:00+00:00" }
}

extension Timestamps {
    /// "2026-12-02T12:33:29+00:00": the reference's offer and policy times.
    static func iso8601Offset(_ epochSeconds: Int) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "1970-01-01T00:00:00+00:00" }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))+00:00"
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// "Wed, 02 Dec 2026 12:33:29 GMT" (RFC 9110's IMF-fixdate), for Last-Modified.
    static func httpDate(_ epochSeconds: Int) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil, (0..<7).contains(Int(parts.tm_wday)),
              (0..<12).contains(Int(parts.tm_mon))
        else { return "Thu, 01 Jan 1970 00:00:00 GMT" }
        return "\(weekdays[Int(parts.tm_wday)]), \(pad(Int(parts.tm_mday), 2)) \(months[Int(parts.tm_mon)]) "
            + "\(pad(Int(parts.tm_year) + 1900, 4)) \(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):"
            + "\(pad(Int(parts.tm_sec), 2)) GMT"
    }

    static func nowEpochSeconds() -> Int { Int(time(nil)) }
}
