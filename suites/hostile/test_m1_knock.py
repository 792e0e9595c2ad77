"""M1: a knock (a caller who did not prove the link's secret) cannot put words of its choosing on the
door's screen. Before issue 19 the offer's `metadata.name` was drawn: "POLICE OPEN THE DOOR" on the knock
screen of the real door. Now a knock shows the fixed word "Visitor" (read back from the screen snapshot
with tesseract).
"""

import subprocess

from flood import Peer
from polling import poll

FAKE_SDP = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n")


def screen_text(path):
    result = subprocess.run(["tesseract", str(path), "-"], capture_output=True, text=True, timeout=60)
    return " ".join(result.stdout.split()).upper()


def test_a_knock_shows_a_fixed_word_not_the_callers_text(door):
    room = door.ring()
    poll(lambda: f"{room['knockPeerId']} registered on" in door.log_text(), 10, message="the knock ID never registered")
    stranger = Peer(door.port, "stranger")
    stranger.send({"type": "OFFER", "dst": room["knockPeerId"],
                   "payload": {"sdp": {"type": "offer", "sdp": FAKE_SDP}, "type": "media", "connectionId": "mc_k1",
                               "metadata": {"name": "POLICE OPEN THE DOOR"}}})
    poll(lambda: door.control({"cmd": "state"})["state"]["phase"] == "knock", 10,
         message=lambda: f"no knock: {door.control({'cmd': 'state'})}")
    snapshots = door.workdir / "snapshots"
    shot = poll(lambda: sorted(snapshots.glob("screen-*-knock.png"))[-1:], 5,
                message=lambda: f"no knock screen among {sorted(p.name for p in snapshots.iterdir())}")[0]
    text = screen_text(shot)
    print(f"M1: the knock screen reads {text!r}")
    assert "POLICE" not in text
    assert "VISITOR" in text
    stranger.close()
