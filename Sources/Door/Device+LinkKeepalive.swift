import DoorCore

/// Liveness of the door's data-only links (docs/data-link-liveness.md): the limit they share with calls, and
/// the `data-lost` event for a link whose page went silent.
extension Device {
    func startLinkKeepalive() {
        LinkKeepalive.limitMillis = options.media.lostAfterMillis
        LinkKeepalive.onLost = { [weak self] peer, connectionId, label, silence in
            self?.control?.publish(.dataLost(peer: peer, connectionId: connectionId, label: label,
                                             silenceMillis: silence))
        }
    }
}
