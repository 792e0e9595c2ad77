/// An opaque sRGB colour, and the screen's palette: light text on a near-black ground for contrast at a distance.
struct Color: Equatable {
    var red: Double
    var green: Double
    var blue: Double

    init(hex: UInt32) {
        red = Double((hex >> 16) & 0xFF) / 255
        green = Double((hex >> 8) & 0xFF) / 255
        blue = Double(hex & 0xFF) / 255
    }

    static let background = Color(hex: 0x101317)
    static let errorBackground = Color(hex: 0x7A1414)
    static let text = Color(hex: 0xFFFFFF)
    static let secondary = Color(hex: 0xB4BCC8)
    static let accent = Color(hex: 0xFFC83D)
    static let warning = Color(hex: 0xFF7466)
    static let badge = Color(hex: 0xD32F2F)
    static let overlayBadge = Color(hex: 0x000000)
    static let qrDark = Color(hex: 0x000000)
    static let qrLight = Color(hex: 0xFFFFFF)
}
