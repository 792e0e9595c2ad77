import CPangoCairo
import DoorCore

/// Draws a `Screen` with cairo and Pango into a BGRx image the size of the panel.
///
/// Every length is a multiple of `height / 480`, so the 800×480 Pi touch display, 720p and 1080p screens
/// show the same picture; extra width goes to the right-hand panel. Text that would not fit shrinks.
public final class ScreenRenderer {
    public let width: Int
    public let height: Int
    private let surface: CairoSurface
    /// The room screen is redrawn every second with the same link; encoding it once is enough.
    private var cachedQR: (link: String, code: QRCode)?

    /// Modules of white around the symbol that readers need to find it (ISO/IEC 18004).
    static let quietZone = 4

    public init(width: Int = 800, height: Int = 480) throws {
        guard width > 0, height > 0 else { throw DisplayError.badFrame("screen size \(width)x\(height)") }
        self.width = width
        self.height = height
        surface = try CairoSurface(width: width, height: height)
    }

    /// The pixels of `screen`, copied out so the renderer can reuse its one surface for the next frame.
    /// `video` is the caller's picture, drawn full screen under the in-call overlay (other screens ignore it).
    /// Throws when cairo fails or a room link is too long for any QR code.
    /// `selfView` is the device camera's own picture, drawn small in the bottom-right corner of a call.
    /// `captions` are chat lines shown over a call, newest last, each at its own opacity (they fade out).
    public func render(_ screen: Screen, video: VideoPicture? = nil, selfView: VideoPicture? = nil,
                       captions: [Caption] = []) throws -> Frame {
        let context = try CairoContext(surface: surface)
        if case .inCall(let peer, let seconds, let muted) = screen, let video, video.isWellFormed {
            try drawVideo(video, on: context)
            drawCallOverlay(peer: peer, seconds: seconds, muted: muted, on: context)
            if let selfView, selfView.isWellFormed { try drawSelfView(selfView, on: context) }
            drawCaptions(captions, muted: muted, on: context)
            return try surface.frame()
        }

        switch screen {
        case .idle(let doorName):
            drawIdle(doorName: doorName, on: context)
        case .room(let code, let link, let secondsLeft):
            try drawRoom(code: code, link: link, secondsLeft: secondsLeft, on: context)
        case .knock(let peer, let secondsLeft):
            drawPrompt(title: "Someone is knocking", peer: peer, secondsLeft: secondsLeft, on: context)
        case .incomingCall(let peer, let secondsLeft):
            drawPrompt(title: "Incoming call", peer: peer, secondsLeft: secondsLeft, on: context)
        case .calling(let peer, let secondsLeft):
            drawCalling(peer: peer, secondsLeft: secondsLeft, on: context)
        case .inCall(let peer, let seconds, let muted):
            drawInCall(peer: peer, seconds: seconds, muted: muted, on: context)
            drawCaptions(captions, muted: muted, on: context)
        case .visit(let peers, let seconds, let muted):
            drawVisit(names: peers, seconds: seconds, muted: muted, on: context)
            drawCaptions(captions, muted: muted, on: context)
        case .ended(let reason):
            drawMessage(reason, background: .background, on: context)
        case .error(let message):
            drawMessage(message, background: .errorBackground, on: context)
        case .pairing(let link, let secondsLeft):
            try drawPairing(link: link, secondsLeft: secondsLeft, on: context)
        case .paired(let name):
            drawMessage("Paired: \(name)", background: .background, on: context)
        }
        return try surface.frame()
    }

    /// The address printed under the QR for typing: the link without its fragment. The fragment is the room
    /// secret — long, and not for typing; a typed address reaches the door as a knock.
    static func typedAddress(_ link: String) -> String {
        link.firstIndex(of: "#").map { String(link[..<$0]) } ?? link
    }

    /// "m:ss", or "h:mm:ss" from an hour on; negative counts show as 0:00.
    static func clock(_ seconds: Int) -> String {
        let s = max(0, seconds)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return s >= 3600 ? "\(s / 3600):\(two(s % 3600 / 60)):\(two(s % 60))" : "\(s / 60):\(two(s % 60))"
    }

    // MARK: Screens

    private var unit: Double { Double(height) / 480 }
    private var margin: Double { 24 * unit }

    private func drawIdle(doorName: String, on context: CairoContext) {
        context.fill(.background)
        let maxWidth = Double(width) - 2 * margin
        drawStack([
            Line(text(doorName, pixels: 64 * unit, bold: true, maxWidth: maxWidth, on: context), color: .text),
            Line(text("Ring the bell", pixels: 36 * unit, maxWidth: maxWidth, on: context),
                 color: .secondary, gap: 18 * unit),
        ], centerX: Double(width) / 2, centerY: Double(height) / 2, on: context)
    }

    private func drawRoom(code: String, link: String, secondsLeft: Int, on context: CairoContext) throws {
        try drawQRScreen(link: link, on: context) { unit, maxWidth in
            [
                Line(text("Scan to talk", pixels: 36 * unit, bold: true, maxWidth: maxWidth, on: context), color: .text),
                Line(text(code, pixels: 116 * unit, bold: true, maxWidth: maxWidth, on: context),
                     color: .accent, gap: 2 * unit),
                Line(text(Self.typedAddress(link), pixels: 16 * unit, maxWidth: maxWidth, wrap: true, on: context),
                     color: .secondary, gap: 6 * unit),
                Line(text("Expires in \(Self.clock(secondsLeft))", pixels: 26 * unit, maxWidth: maxWidth, on: context),
                     color: secondsLeft <= 15 ? .warning : .secondary, gap: 30 * unit),
            ]
        }
    }

    /// The pairing window: the QR of the pairing link (its token only in the QR), the countdown, and what to do.
    private func drawPairing(link: String, secondsLeft: Int, on context: CairoContext) throws {
        try drawQRScreen(link: link, on: context) { unit, maxWidth in
            [
                Line(text("Pair a phone", pixels: 48 * unit, bold: true, maxWidth: maxWidth, on: context), color: .text),
                Line(text("Scan with the phone you want to ring", pixels: 28 * unit, maxWidth: maxWidth, wrap: true,
                          on: context), color: .accent, gap: 16 * unit),
                Line(text("Closes in \(Self.clock(secondsLeft))", pixels: 26 * unit, maxWidth: maxWidth, on: context),
                     color: secondsLeft <= 15 ? .warning : .secondary, gap: 30 * unit),
            ]
        }
    }

    /// A QR code beside (landscape) or above (portrait, a panel mounted on its side) a stack of lines, which
    /// `lines` makes for a unit length and the width they may take.
    private func drawQRScreen(link: String, on context: CairoContext,
                              lines: (_ unit: Double, _ maxWidth: Double) -> [Line]) throws {
        context.fill(.background)
        let symbol = try qrCode(for: link)
        // Whole pixels per module keep every module edge sharp for the phone camera.
        let modules = symbol.size + 2 * Self.quietZone
        if height > width {
            let portraitUnit = Double(width) / 480
            let available = min(Double(width) - 2 * margin, Double(height) * 0.5)
            let scale = max(1, Int(available) / modules)
            let side = scale * modules
            let top = Int(margin.rounded())
            drawQR(symbol, left: (width - side) / 2, top: top, scale: scale, on: context)
            let panelTop = Double(top + side)
            drawStack(lines(portraitUnit, Double(width) - 2 * margin), centerX: Double(width) / 2,
                      centerY: panelTop + (Double(height) - panelTop) / 2, on: context)
            return
        }
        let available = min(Double(height) - 2 * margin, Double(width) * 0.55 - margin)
        let scale = max(1, Int(available) / modules)
        let side = scale * modules
        let left = Int(margin.rounded())
        drawQR(symbol, left: left, top: (height - side) / 2, scale: scale, on: context)
        let panelLeft = Double(left + side) + 32 * unit
        let panelWidth = Double(width) - margin - panelLeft
        drawStack(lines(unit, panelWidth), centerX: panelLeft + panelWidth / 2, centerY: Double(height) / 2, on: context)
    }

    /// The caller's video scaled to cover the whole screen (cropping the overflow), centred.
    private func drawVideo(_ video: VideoPicture, on context: CairoContext) throws {
        context.fill(.background)
        try video.pixels.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            // cairo only reads the pixels while painting, so lending it the immutable buffer is sound.
            let picture = try CairoSurface(borrowing: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                                           width: video.width, height: video.height, stride: video.stride)
            let scale = max(Double(width) / Double(video.width), Double(height) / Double(video.height))
            cairo_save(context.pointer)
            cairo_translate(context.pointer, (Double(width) - Double(video.width) * scale) / 2,
                            (Double(height) - Double(video.height) * scale) / 2)
            cairo_scale(context.pointer, scale, scale)
            cairo_set_source_surface(context.pointer, picture.pointer, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(context.pointer), CAIRO_FILTER_BILINEAR)
            cairo_paint(context.pointer)
            cairo_restore(context.pointer)
        }
    }

    /// The device's own camera, a quarter of the screen wide, framed, above the bottom-right corner.
    private func drawSelfView(_ picture: VideoPicture, on context: CairoContext) throws {
        let boxWidth = Double(width) / 4
        let scale = boxWidth / Double(picture.width)
        let boxHeight = Double(picture.height) * scale
        let left = Double(width) - margin - boxWidth
        let top = Double(height) - margin - boxHeight
        let frame = 3 * unit
        context.fillRectangle(x: left - frame, y: top - frame, width: boxWidth + 2 * frame,
                              height: boxHeight + 2 * frame, color: .text)
        try picture.pixels.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            // cairo only reads the pixels while painting, so lending it the immutable buffer is sound.
            let surface = try CairoSurface(borrowing: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                                           width: picture.width, height: picture.height, stride: picture.stride)
            cairo_save(context.pointer)
            cairo_translate(context.pointer, left, top)
            cairo_scale(context.pointer, scale, scale)
            cairo_set_source_surface(context.pointer, surface.pointer, 0, 0)
            cairo_paint(context.pointer)
            cairo_restore(context.pointer)
        }
    }

    /// Over the video: who and how long in a bar at the top, the muted badge at the bottom.
    private func drawCallOverlay(peer: String, seconds: Int, muted: Bool, on context: CairoContext) {
        let bar = 56 * unit
        cairo_set_source_rgba(context.pointer, 0, 0, 0, 0.55)
        cairo_rectangle(context.pointer, 0, 0, Double(width), bar)
        cairo_fill(context.pointer)
        let label = text("\(peer)  \(Self.clock(seconds))", pixels: 28 * unit, bold: true,
                         maxWidth: Double(width) - 2 * margin, on: context)
        label.draw(on: context, centerX: Double(width) / 2, top: (bar - label.size.height) / 2, color: .text)
        if muted {
            let badge = text("Microphone muted", pixels: 28 * unit, bold: true, maxWidth: Double(width) - 2 * margin,
                             on: context)
            // Dark, not red: it must stand out over whatever the camera shows.
            drawStack([Line(badge, color: .text, badge: .overlayBadge)], centerX: Double(width) / 2,
                      centerY: Double(height) - margin - badge.size.height, on: context)
        }
    }

    /// Chat lines over the call, bottom-left, newest lowest, in dark boxes at their caption's opacity; above the
    /// muted badge when it shows.
    private func drawCaptions(_ captions: [Caption], muted: Bool, on context: CairoContext) {
        let maxWidth = Double(width) * 0.7 - margin
        var bottom = Double(height) - margin - (muted ? 64 * unit : 0)
        let pad = 8 * unit
        for caption in captions.reversed() where caption.opacity > 0.01 {
            let layout = text(caption.text, pixels: 24 * unit, maxWidth: maxWidth, maxHeight: 90 * unit, wrap: true,
                              on: context)
            let size = layout.size
            let top = bottom - size.height - 2 * pad
            guard top > 56 * unit else { break }
            cairo_push_group(context.pointer)
            context.fillRoundedRectangle(x: margin, y: top, width: size.width + 2 * pad, height: size.height + 2 * pad,
                                         radius: 10 * unit, color: .overlayBadge)
            layout.draw(on: context, centerX: margin + pad + size.width / 2, top: top + pad, color: .text)
            cairo_pop_group_to_source(context.pointer)
            cairo_paint_with_alpha(context.pointer, caption.opacity * 0.85)
            bottom = top - 8 * unit
        }
    }

    /// A caller waits for a button: what happened, which button does what, who, and how long it waits.
    private func drawPrompt(title: String, peer: String, secondsLeft: Int, on context: CairoContext) {
        context.fill(.background)
        let maxWidth = Double(width) - 2 * margin
        drawStack([
            Line(text(title, pixels: 64 * unit, bold: true, maxWidth: maxWidth, on: context), color: .accent),
            Line(text("Press ANSWER to talk,\nDECLINE to refuse", pixels: 44 * unit, bold: true, maxWidth: maxWidth,
                      wrap: true, on: context), color: .text, gap: 24 * unit),
            Line(text("Caller \(peer)", pixels: 22 * unit, maxWidth: maxWidth, on: context),
                 color: .secondary, gap: 28 * unit),
            Line(text("Waiting \(Self.clock(secondsLeft))", pixels: 26 * unit, maxWidth: maxWidth, on: context),
                 color: secondsLeft <= 10 ? .warning : .secondary, gap: 10 * unit),
        ], centerX: Double(width) / 2, centerY: Double(height) / 2, on: context)
    }

    /// The door calls someone: who, how long it still waits, and how to stop.
    private func drawCalling(peer: String, secondsLeft: Int, on context: CairoContext) {
        context.fill(.background)
        let maxWidth = Double(width) - 2 * margin
        drawStack([
            Line(text("Calling…", pixels: 64 * unit, bold: true, maxWidth: maxWidth, on: context), color: .accent),
            Line(text(peer, pixels: 36 * unit, maxWidth: maxWidth, on: context), color: .text, gap: 20 * unit),
            Line(text("Press DECLINE to cancel", pixels: 30 * unit, bold: true, maxWidth: maxWidth, on: context),
                 color: .text, gap: 28 * unit),
            Line(text("Waiting \(Self.clock(secondsLeft))", pixels: 26 * unit, maxWidth: maxWidth, on: context),
                 color: .secondary, gap: 10 * unit),
        ], centerX: Double(width) / 2, centerY: Double(height) / 2, on: context)
    }

    private func drawInCall(peer: String, seconds: Int, muted: Bool, on context: CairoContext) {
        context.fill(.background)
        let maxWidth = Double(width) - 2 * margin
        var lines = [
            Line(text("In call with \(peer)", pixels: 36 * unit, maxWidth: maxWidth, on: context), color: .text),
            Line(text(Self.clock(seconds), pixels: 120 * unit, bold: true, maxWidth: maxWidth, on: context),
                 color: .text, gap: 8 * unit),
        ]
        if muted {
            lines.append(Line(text("Microphone muted", pixels: 28 * unit, bold: true, maxWidth: maxWidth, on: context),
                              color: .text, gap: 28 * unit, badge: .badge))
        }
        drawStack(lines, centerX: Double(width) / 2, centerY: Double(height) / 2, on: context)
    }

    /// A household visit: the call clock, then who is on, one name a line in the order they joined.
    private func drawVisit(names: [String], seconds: Int, muted: Bool, on context: CairoContext) {
        context.fill(.background)
        let maxWidth = Double(width) - 2 * margin
        var lines = [
            Line(text("On the call (\(names.count))", pixels: 30 * unit, maxWidth: maxWidth, on: context), color: .secondary),
            Line(text(Self.clock(seconds), pixels: 72 * unit, bold: true, maxWidth: maxWidth, on: context),
                 color: .text, gap: 4 * unit),
        ]
        for (index, name) in names.enumerated() {
            lines.append(Line(text(name, pixels: 36 * unit, bold: true, maxWidth: maxWidth, on: context),
                              color: .accent, gap: (index == 0 ? 20 : 8) * unit))
        }
        if muted {
            lines.append(Line(text("Microphone muted", pixels: 28 * unit, bold: true, maxWidth: maxWidth, on: context),
                              color: .text, gap: 20 * unit, badge: .badge))
        }
        drawStack(lines, centerX: Double(width) / 2, centerY: Double(height) / 2, on: context)
    }

    private func drawMessage(_ message: String, background: Color, on context: CairoContext) {
        context.fill(background)
        let layout = text(message, pixels: 56 * unit, bold: true, maxWidth: Double(width) - 2 * margin,
                          maxHeight: Double(height) - 2 * margin, wrap: true, on: context)
        drawStack([Line(layout, color: .text)], centerX: Double(width) / 2, centerY: Double(height) / 2, on: context)
    }

    // MARK: Drawing helpers

    private func qrCode(for link: String) throws -> QRCode {
        if let cachedQR, cachedQR.link == link { return cachedQR.code }
        let code = try QRCode(link)
        cachedQR = (link, code)
        return code
    }

    /// Black modules on a white card whose border is exactly the quiet zone; runs of dark modules become one
    /// rectangle each, drawn without antialiasing.
    private func drawQR(_ symbol: QRCode, left: Int, top: Int, scale: Int, on context: CairoContext) {
        let side = Double(scale * (symbol.size + 2 * Self.quietZone))
        context.fillRoundedRectangle(x: Double(left), y: Double(top), width: side, height: side,
                                     radius: Double(scale) * 1.5, color: .qrLight)
        let origin = (x: left + Self.quietZone * scale, y: top + Self.quietZone * scale)
        cairo_set_antialias(context.pointer, CAIRO_ANTIALIAS_NONE)
        defer { cairo_set_antialias(context.pointer, CAIRO_ANTIALIAS_DEFAULT) }
        for y in 0..<symbol.size {
            var x = 0
            while x < symbol.size {
                guard symbol.isDark(x: x, y: y) else { x += 1; continue }
                let start = x
                while x < symbol.size, symbol.isDark(x: x, y: y) { x += 1 }
                cairo_rectangle(context.pointer, Double(origin.x + start * scale), Double(origin.y + y * scale),
                                Double((x - start) * scale), Double(scale))
            }
        }
        context.setColor(.qrDark)
        cairo_fill(context.pointer)
    }

    /// Lays out `string` at `pixels`, shrinking it until it fits `maxWidth` × `maxHeight`; below the smallest
    /// readable size it is cut with an ellipsis instead.
    private func text(_ string: String, pixels: Double, bold: Bool = false, maxWidth: Double,
                      maxHeight: Double = .infinity, wrap: Bool = false, on context: CairoContext) -> TextLayout {
        let smallest = 12 * unit
        var size = pixels
        while true {
            let font = FontDescription(pixels: size, bold: bold)
            let layout = TextLayout(context: context, text: string, font: font, wrapWidth: wrap ? maxWidth : nil)
            let measured = layout.size
            if measured.width <= maxWidth, measured.height <= maxHeight { return layout }
            if size <= smallest {
                layout.ellipsize(at: maxWidth)
                return layout
            }
            let factor = min(0.95, maxWidth / measured.width, maxHeight / measured.height)
            size = max(smallest, (size * factor).rounded(.down))
        }
    }

    /// One block of a vertically centred stack: its text, colour, space above, and an optional pill behind it.
    private struct Line {
        let layout: TextLayout
        let color: Color
        let gap: Double
        let badge: Color?

        init(_ layout: TextLayout, color: Color, gap: Double = 0, badge: Color? = nil) {
            self.layout = layout
            self.color = color
            self.gap = gap
            self.badge = badge
        }
    }

    private func drawStack(_ lines: [Line], centerX: Double, centerY: Double, on context: CairoContext) {
        func padding(_ line: Line) -> (x: Double, y: Double) {
            line.badge == nil ? (0, 0) : (line.layout.size.height * 0.7, line.layout.size.height * 0.3)
        }
        let total = lines.reduce(0) { $0 + $1.gap + $1.layout.size.height + 2 * padding($1).y }
        var top = centerY - total / 2
        for line in lines {
            top += line.gap
            let size = line.layout.size
            let pad = padding(line)
            if let badge = line.badge {
                let height = size.height + 2 * pad.y
                context.fillRoundedRectangle(x: centerX - size.width / 2 - pad.x, y: top,
                                             width: size.width + 2 * pad.x, height: height,
                                             radius: height / 2, color: badge)
            }
            line.layout.draw(on: context, centerX: centerX, top: top + pad.y, color: line.color)
            top += size.height + 2 * pad.y
        }
    }
}
