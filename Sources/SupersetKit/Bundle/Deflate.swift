import Foundation
import ZIPFoundation

/// Raw deflate (as inside a ZIP), for Ferry's own stored files.
public enum Deflate {
    public struct TooLarge: Error, CustomStringConvertible {
        public var limit: Int
        public var description: String { "inflates past \(limit) bytes" }
    }

    public struct Truncated: Error, CustomStringConvertible {
        public var description: String { "the deflate stream ends before its end marker" }
    }

    /// The bytes the coder asks for, clamped to `data` (it may ask past the end).
    static func slice(_ data: Data, _ position: Int64, _ size: Int) -> Data {
        let start = min(max(0, Int(position)), data.count), end = min(data.count, start + max(0, size))
        return data.subdata(in: data.startIndex + start..<data.startIndex + end)
    }

    public static func compress(_ data: Data) throws -> Data {
        var out = Data()
        _ = try Data.compress(size: Int64(data.count), bufferSize: 64 << 10,
                              provider: { position, size in slice(data, position, size) },
                              consumer: { out.append($0) })
        return out
    }

    /// Inflates `data`, refusing to produce more than `limit` bytes (a bomb stops there) and
    /// throwing `Truncated` for a stream without its end (garbage, or cut short). The decoder
    /// hands zlib `size` bytes whatever it gets, so each piece is padded to that size, and a
    /// request past the end throws instead of looping on nothing.
    public static func decompress(_ data: Data, limit: Int) throws -> Data {
        var out = Data()
        _ = try Data.decompress(size: Int64(data.count), bufferSize: 64 << 10, skipCRC32: true,
                                provider: { position, size in
                                    guard position < Int64(data.count) else { throw Truncated() }
                                    var piece = slice(data, position, size)
                                    if piece.count < size { piece.append(Data(count: size - piece.count)) }
                                    return piece
                                },
                                consumer: { chunk in
                                    out.append(chunk)
                                    if out.count > limit { throw TooLarge(limit: limit) }
                                })
        return out
    }
}
