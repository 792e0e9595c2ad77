import DoorCore

/// Liveness of the door's data-only links (docs/data-link-liveness.md): the limit they share with calls, and
/// the `data-lost` event for a link whose page went silent.
extension Device {
    /// Sets this door's keepalive policy on the parts every data link is made with (before the home ID and
    /// any chat makes one).
    func startLinkKeepalive() {
        dataLinks.liveness.limitMillis = options.media.lostAfterMillis
        dataLinks.liveness.onLost = { [weak self] peer, connectionId, label, silence in
            self?.control?.publish(.dataLost(peer: peer, connectionId: connectionId, label: label,
                                             silenceMillis: silence))
        }
    }
}
