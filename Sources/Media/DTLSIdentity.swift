import CGStreamer
import Dispatch
import DoorCore
import MainLoop

/// Makes GStreamer's DTLS certificate at start-up, on a worker thread, instead of on the first call's answer path.
///
/// Every `dtlsdec` built without a `pem` shares one certificate and RSA-2048 key per process, generated when the
/// first such element is made (`get_agent_by_pem(NULL)` in gst-plugins-bad's dtls plugin, behind a `g_once`).
/// webrtcbin makes its `dtlssrtpdec` in `set-remote-description`, so the first call of a process waited for the
/// key: 0.34–0.85 s measured here on a loaded 2-core machine (GST_DEBUG timestamps around `gst-inspect-1.0
/// dtlsdec`), more on a Pi. Making one throw-away `dtlsdec` early leaves the certificate made and cached; a call
/// that arrives while it is still being made waits on the same `g_once` and gets the same certificate.
public enum DTLSIdentity {
    /// Starts the generation off the loop; returns at once. Logs how long it took at debug level.
    public static func prepareInBackground() {
        DispatchQueue.global(qos: .utility).async(group: preparing) {
            let started = monotonicMicros()
            guard let element = gst_element_factory_make("dtlsdec", nil) else {
                return Log.warning("media", "no dtlsdec element: the first call makes its DTLS certificate itself")
            }
            gst_object_unref(gst_object_ref_sink(UnsafeMutableRawPointer(element)))
            Log.debug("media", "DTLS certificate made in \((monotonicMicros() - started) / 1000) ms, before any call")
        }
    }

    /// Waits for a generation still under way (before `gst_deinit`, which must not run beside it).
    public static func waitUntilPrepared() {
        preparing.wait()
    }

    private static let preparing = DispatchGroup()
}
