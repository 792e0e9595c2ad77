"""M2: strangers cannot hold the door's pairing slots. Before issue 19's fix a pair OFFER (a data connection
labelled `pair` to the home ID) was taken whether or not anyone had opened the pairing window, so four of
them, never connected, held every slot and real phones were refused "too many at once". Now `PairingGate`
takes pair offers only around an open window (docs/pairing.md).
"""

import json
import secrets

import websocket

from flood import Peer
from polling import poll

# A data-channel offer as a browser makes one; the stranger never follows it with candidates.
DATA_SDP = "\r\n".join([
    "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "a=msid-semantic: WMS", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
    "a=ice-ufrag:Hk3v", "a=ice-pwd:Pq2mW8x9Zr4tLk7sD1fG6hJ0", "a=ice-options:trickle",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:actpass", "a=mid:0", "a=sctp-port:5000",
    "a=max-message-size:262144", ""])


def pair_offer(home, connection_id):
    return {"type": "OFFER", "dst": home,
            "payload": {"type": "data", "connectionId": connection_id, "label": "pair", "reliable": True,
                        "serialization": "json", "metadata": {"intercom": "pair"},
                        "sdp": {"type": "offer", "sdp": DATA_SDP}}}


def state(door):
    return door.control({"cmd": "state"})["state"]


def pair_links(door):
    return [link for link in state(door)["dataLinks"] if link["label"] == "pair"]


def frames_so_far(peer):
    """Every frame the server has sent this peer by now (without waiting for more)."""
    frames = []
    peer.ws.settimeout(0.05)
    while True:
        try:
            frames.append(json.loads(peer.ws.recv()))
        except (websocket.WebSocketTimeoutException, TimeoutError):
            return frames


def test_pair_offers_are_taken_only_while_the_pairing_window_is_open(start_door, tmp_path):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    config = tmp_path / "intercom.yaml"
    config.write_text(f"paths:\n  state: {state_dir}\n")
    door = start_door("--config", str(config))
    home = state(door)["homePeerId"]
    poll(lambda: f"{home} registered on" in door.log_text(), 10, message="the home ID never registered")

    # No pairing window: four strangers' pair offers are refused at the OFFER, no slot is held, no answer sent.
    strangers = [Peer(door.port, "stranger-" + secrets.token_hex(4)) for _ in range(4)]
    for n, stranger in enumerate(strangers):
        stranger.send(pair_offer(home, f"dc_hold{n}"))
    poll(lambda: state(door)["admission"]["dataOffersRefused"] == 4, 10,
         message=lambda: f"the pair offers were not refused: {state(door)}")
    assert pair_links(door) == []
    for stranger in strangers:
        assert [f for f in frames_so_far(stranger) if f.get("type") == "ANSWER"] == []
    print(f"M2: 4 pair offers with the window closed: {state(door)['admission']['dataOffersRefused']} refused")

    # The owner opens the window: now a pair offer is taken (the same check that saw none above sees it).
    assert door.control({"cmd": "pair"})["ok"] is True
    phone = Peer(door.port, "phone-" + secrets.token_hex(4))
    phone.send(pair_offer(home, "dc_phone"))
    poll(lambda: [link["peer"] for link in pair_links(door)] == [phone.id], 10,
         message=lambda: f"the pair offer inside the window was not taken: {state(door)['dataLinks']}")
    assert state(door)["admission"]["dataOffersRefused"] == 4
    for peer in [*strangers, phone]:
        peer.close()
