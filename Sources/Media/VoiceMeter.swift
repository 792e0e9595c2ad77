import CGStreamer

/// Measures a call's decoded voice where it enters the speaker mixer into `counters.voiceRMSPermille`: the RMS of
/// each buffer, held as a peak that halves every quarter second (at 48 kHz), like a level meter. A voice between
/// breaths (or a beep every half second) reads as heard; a muted phone's falls to 0 within about two seconds.
func meterVoice(at mixerPad: UnsafeMutablePointer<GstPad>, into counters: MediaCounters) {
    gst_pad_add_probe(mixerPad, GST_PAD_PROBE_TYPE_BUFFER, measureCallVoice,
                      Unmanaged.passRetained(counters).toOpaque(), releaseVoiceCounters)
}

private let measureCallVoice: GstPadProbeCallback = { _, info, data in
    guard let info, let data, let measured = s16RMSPermille(info) else { return GST_PAD_PROBE_OK }
    let counters = Unmanaged<MediaCounters>.fromOpaque(data).takeUnretainedValue()
    // Only this probe writes the value (one streaming thread per pad), so load-then-store loses nothing.
    let held = Double(counters.voiceRMSPermille.load(ordering: .relaxed))
        * max(0, 1 - 0.6931 * Double(measured.samples) / Double(halfLifeSamples))
    counters.voiceRMSPermille.store(max(measured.permille, Int(held)), ordering: .relaxed)
    counters.voiceBuffersMixed.add(1, ordering: .relaxed)
    return GST_PAD_PROBE_OK
}

/// A quarter second at 48 kHz: the held peak halves in this many samples.
private let halfLifeSamples = 12_000

private let releaseVoiceCounters: GDestroyNotify = { data in
    if let data { Unmanaged<MediaCounters>.fromOpaque(data).release() }
}
