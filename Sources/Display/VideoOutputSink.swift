import CGStreamer
import DoorCore

/// Shows frames through a small GStreamer pipeline: `appsrc ! videoconvert ! <output>`.
///
/// Frames arrive upright; for a turned panel they are turned here (`FrameRotator`) before the pipeline, so the
/// pipeline always carries the panel's own geometry (kmssink accepts only the mode's sizes). The output is `kmssink` on the device (straight to KMS/DRM, no compositor) or a desktop window for
/// `make run`. Frames are pushed only when the screen changes (and at the video rate during a call); the
/// display keeps scanning out the last one in between.
public final class VideoOutputSink: DisplaySink {
    /// Where the pixels go.
    public enum Output: Sendable, Equatable {
        /// `kmssink` on one card's connector; `canScale` lets the display controller scale instead of the CPU.
        case kms(driver: String, connectorID: UInt32, canScale: Bool)
        /// `autovideosink` in an X11 or Wayland session.
        case window
    }

    /// How the panel is mounted; frames are rendered upright and turned here.
    public enum Rotation: Int, Sendable, CaseIterable {
        case none = 0, clockwise = 90, upsideDown = 180, counterclockwise = 270

        /// A quarter turn either way: the panel's width is the frame's height.
        var swapsAxes: Bool { self == .clockwise || self == .counterclockwise }
    }

    public let output: Output
    private let pipeline: UnsafeMutablePointer<GstElement>
    private let source: UnsafeMutablePointer<GstElement>
    private let width: Int
    private let height: Int
    private let rotator: FrameRotator?

    /// Builds and starts the pipeline for upright frames of `width`×`height`, shown turned by `rotation`; throws
    /// `noDisplay` when the output cannot open (no DRM device, no window system, missing plugin), so the caller
    /// can fall back to snapshots.
    public init(output: Output, width: Int, height: Int, rotation: Rotation = .none) throws {
        gst_init(nil, nil)
        self.output = output
        self.width = width
        self.height = height
        rotator = rotation == .none ? nil : try FrameRotator(rotation: rotation, width: width, height: height)
        let (outputWidth, outputHeight) = rotation.swapsAxes ? (height, width) : (width, height)
        let tail: String
        switch output {
        case .kms(let driver, let connector, let canScale):
            guard Self.exists("kmssink") else {
                throw DisplayError.noDisplay("kmssink is missing: install gstreamer1.0-plugins-bad")
            }
            tail = "kmssink driver-name=\(driver) connector-id=\(connector) can-scale=\(canScale) "
                + "force-modesetting=true restore-crtc=true sync=false"
        case .window:
            guard Self.hasWindowSystem() else {
                throw DisplayError.noDisplay("no window system (neither DISPLAY nor WAYLAND_DISPLAY is set)")
            }
            tail = "autovideosink sync=false"
        }
        let description = "appsrc name=ui is-live=true format=time do-timestamp=true block=false "
            + "caps=video/x-raw,format=BGRx,width=\(outputWidth),height=\(outputHeight),framerate=0/1 "
            + "! videoconvert ! queue max-size-buffers=2 leaky=downstream ! \(tail)"
        var error: UnsafeMutablePointer<GError>?
        guard let pipeline = gst_parse_launch(description, &error), error == nil else {
            let text = error.map { String(cString: $0.pointee.message) } ?? "unknown"
            if let error { g_error_free(error) }
            throw DisplayError.noDisplay("display pipeline: \(text)")
        }
        guard let source = gst_bin_get_by_name(UnsafeMutablePointer<GstBin>(OpaquePointer(pipeline)), "ui") else {
            gst_object_unref(UnsafeMutableRawPointer(pipeline))
            throw DisplayError.noDisplay("display pipeline has no appsrc")
        }
        self.pipeline = pipeline
        self.source = source
        if gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE {
            let reason = Self.firstError(pipeline) ?? "the output would not start"
            throw DisplayError.noDisplay("\(Self.name(output)): \(reason)")
        }
    }

    private var stopped = false

    /// Ends the stream and takes the pipeline to NULL: kmssink lets go of the DRM master, so the console
    /// (or whatever runs next) gets the screen back. Frames shown after it are refused.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        gst_app_src_end_of_stream(UnsafeMutablePointer<GstAppSrc>(OpaquePointer(source)))
        gst_element_set_state(pipeline, GST_STATE_NULL)
    }

    deinit {
        stop()
        gst_object_unref(UnsafeMutableRawPointer(source))
        gst_object_unref(UnsafeMutableRawPointer(pipeline))
    }

    public func show(_ frame: Frame, screen: Screen) throws {
        guard frame.width == width, frame.height == height, frame.stride == width * 4 else {
            throw DisplayError.badFrame("\(frame.width)x\(frame.height) frame for a \(width)x\(height) output")
        }
        guard !stopped else { throw DisplayError.noDisplay("\(Self.name(output)) was stopped") }
        if let reason = Self.firstError(pipeline) { throw DisplayError.noDisplay("\(Self.name(output)): \(reason)") }
        let buffer: UnsafeMutablePointer<GstBuffer>?
        if let rotator {
            buffer = try rotator.rotate(frame) { pixels, stride in
                guard stride == rotator.outputWidth * 4 else {
                    throw DisplayError.badFrame("turned frame has stride \(stride), not \(rotator.outputWidth * 4)")
                }
                return gst_buffer_new_memdup(pixels.baseAddress, gsize(pixels.count))
            }
        } else {
            buffer = frame.pixels.withUnsafeBytes { gst_buffer_new_memdup($0.baseAddress, gsize($0.count)) }
        }
        guard let buffer else { throw DisplayError.badFrame("could not allocate a \(frame.pixels.count)-byte buffer") }
        // push_buffer takes ownership of the buffer.
        let result = gst_app_src_push_buffer(UnsafeMutablePointer<GstAppSrc>(OpaquePointer(source)), buffer)
        guard result == GST_FLOW_OK else {
            throw DisplayError.noDisplay("\(Self.name(output)) refused a frame (flow \(result.rawValue))")
        }
    }

    static func name(_ output: Output) -> String {
        switch output {
        case .kms(let driver, let connector, _): "kmssink (\(driver), connector \(connector))"
        case .window: "window"
        }
    }

    static func exists(_ element: String) -> Bool {
        guard let factory = gst_element_factory_find(element) else { return false }
        gst_object_unref(UnsafeMutableRawPointer(factory))
        return true
    }

    static func hasWindowSystem() -> Bool {
        for name in ["DISPLAY", "WAYLAND_DISPLAY"] {
            if let value = getenv(name), value.pointee != 0 { return true }
        }
        return false
    }

    /// The first ERROR message waiting on the pipeline's bus, if any (the sink has no bus watch of its own).
    static func firstError(_ pipeline: UnsafeMutablePointer<GstElement>) -> String? {
        guard let bus = gst_element_get_bus(pipeline) else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(bus)) }
        guard let message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) else { return nil }
        defer { gst_message_unref(message) }
        var error: UnsafeMutablePointer<GError>?
        gst_message_parse_error(message, &error, nil)
        defer { if let error { g_error_free(error) } }
        return error.map { String(cString: $0.pointee.message) }
    }
}
