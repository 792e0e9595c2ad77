import Intercom

extension Device {
    /// The pairing window opened: its link goes to the screen's QR only; logs and events get it redacted.
    func pairingOpened(_ link: PairingLink) {
        Log.info("pairing", "pairing window open: \(link)")
        control?.publish(["event": "pairing-open", "link": .string(link.redacted)])
    }

    func pairingClosed() {
        Log.info("pairing", "pairing window closed")
        control?.publish(["event": "pairing-closed"])
    }
}
