import Foundation
import SupersetKit

/// A decoded 8-bit PNG (what chromium's screenshots are): RGBA pixels, row by row. Enough of
/// PNG for comparing screenshots: bit depth 8, colour types 0, 2, 4 and 6, no interlace.
///
/// Invariants: `pixels.count == width * height * 4`. Decoding refuses images over `maxPixels`
/// and inflates at most what their size needs, so a hostile file can't exhaust memory.
struct PNGImage: Sendable, Equatable {
    var width: Int
    var height: Int
    var pixels: [UInt8]

    static let maxPixels = 1920 * 8000

    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Unsupported(description: "not a PNG") }
        var offset = 8
        var width = 0, height = 0, colorType = -1
        var idat = Data()
        func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        while offset + 8 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let start = offset + 8
            guard length >= 0, start + length + 4 <= bytes.count else { throw Unsupported(description: "truncated chunk \(type)") }
            switch type {
            case "IHDR":
                guard length >= 13 else { throw Unsupported(description: "short IHDR") }
                width = be32(start)
                height = be32(start + 4)
                guard bytes[start + 8] == 8 else { throw Unsupported(description: "bit depth \(bytes[start + 8])") }
                colorType = Int(bytes[start + 9])
                guard bytes[start + 12] == 0 else { throw Unsupported(description: "interlaced") }
            case "IDAT": idat.append(contentsOf: bytes[start..<start + length])
            case "IEND": offset = bytes.count
            default: break
            }
            offset = start + length + 4
        }
        let channels: Int
        switch colorType {
        case 0: channels = 1
        case 2: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: throw Unsupported(description: "colour type \(colorType)")
        }
        guard (1...100_000).contains(width), (1...100_000).contains(height), width * height <= Self.maxPixels else { throw Unsupported(description: "size \(width)×\(height)") }
        guard idat.count > 6 else { throw Unsupported(description: "no image data") }
        // zlib: a 2-byte header, then raw deflate (the adler32 at the end is not checked).
        let stride = width * channels
        let raw = [UInt8](try Deflate.decompress(idat.dropFirst(2), limit: (stride + 1) * height))
        guard raw.count >= (stride + 1) * height else { throw Unsupported(description: "image data too short") }
        var out = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1, dst = y * stride
            for x in 0..<stride {
                let a = x >= channels ? Int(out[dst + x - channels]) : 0
                let b = y > 0 ? Int(out[dst - stride + x]) : 0
                let c = (x >= channels && y > 0) ? Int(out[dst - stride + x - channels]) : 0
                let v = Int(raw[src + x])
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Unsupported(description: "filter \(filter)")
                }
                out[dst + x] = UInt8(truncatingIfNeeded: v + predicted)
            }
        }
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        for i in 0..<(width * height) {
            let s = i * channels, d = i * 4
            switch channels {
            case 1, 2:
                rgba[d] = out[s]; rgba[d + 1] = out[s]; rgba[d + 2] = out[s]
                if channels == 2 { rgba[d + 3] = out[s + 1] }
            default:
                rgba[d] = out[s]; rgba[d + 1] = out[s + 1]; rgba[d + 2] = out[s + 2]
                if channels == 4 { rgba[d + 3] = out[s + 3] }
            }
        }
        self.init(width: width, height: height, pixels: rgba)
    }

    /// The share of pixels (0-100) that differ between `self` and `other` by more than
    /// `tolerance` in any channel; where the sizes differ, the pixels only one image has
    /// count as changed.
    func percentChanged(from other: PNGImage, tolerance: Int = 24) -> Double {
        let w = min(width, other.width), h = min(height, other.height)
        let total = max(width * height, other.width * other.height)
        guard total > 0 else { return 0 }
        var changed = total - w * h
        for y in 0..<h {
            let a = y * width * 4, b = y * other.width * 4
            for x in 0..<w {
                let i = a + x * 4, j = b + x * 4
                if abs(Int(pixels[i]) - Int(other.pixels[j])) > tolerance || abs(Int(pixels[i + 1]) - Int(other.pixels[j + 1])) > tolerance
                    || abs(Int(pixels[i + 2]) - Int(other.pixels[j + 2])) > tolerance {
                    changed += 1
                }
            }
        }
        return (Double(changed) / Double(total) * 1000).rounded() / 10
    }
}
