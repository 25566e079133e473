import Foundation
import GRDB

extension Date {
    /// The value GRDB stores a `Date` as (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), made without a
    /// `DateFormatter`: the send's delivery log writes one per transaction, and Foundation's
    /// formatter took a tenth of that thread's time.
    var fastDatabaseValue: DatabaseValue {
        let milliseconds = Int64((timeIntervalSince1970 * 1000).rounded())
        guard milliseconds >= 0 else { return databaseValue }
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return databaseValue }
        var text: [UInt8] = []
        text.reserveCapacity(23)
        func append(_ value: Int, digits: Int, then separator: Character?) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
            if let separator { text.append(separator.asciiValue!) }
        }
        append(Int(parts.tm_year) + 1900, digits: 4, then: "-")
        append(Int(parts.tm_mon) + 1, digits: 2, then: "-")
        append(Int(parts.tm_mday), digits: 2, then: " ")
        append(Int(parts.tm_hour), digits: 2, then: ":")
        append(Int(parts.tm_min), digits: 2, then: ":")
        append(Int(parts.tm_sec), digits: 2, then: ".")
        append(Int(milliseconds % 1000), digits: 3, then: nil)
        return String(decoding: text, as: UTF8.self).databaseValue
    }
}
