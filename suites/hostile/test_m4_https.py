"""M4: with HTTPS configured as the README recommends, the door's own clients — the room's IDs and the home
ID (pairing, rings to paired browsers, `ctl call`/`connect`) — register on the door's own server.

Before issue 19 the home ID never registered: unlike the room clients it did not accept the door's own
certificate on loopback (the certificate names the public host, not 127.0.0.1).
"""

import subprocess

from polling import poll


def test_the_home_id_registers_over_https(start_door, tmp_path):
    cert, key = tmp_path / "door-cert.pem", tmp_path / "door-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=door.test", "-addext", "subjectAltName=DNS:door.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    state = tmp_path / "state"
    state.mkdir()
    config = tmp_path / "intercom.yaml"
    config.write_text(f"signaling:\n  tls_certificate: {cert}\n  tls_private_key: {key}\n"
                      f"paths:\n  state: {state}\n")
    door = start_door("--config", str(config))
    poll(lambda: "(HTTPS/WSS)" in door.log_text(), 10, message="the door is not listening with TLS")
    # The home ID registers (its own line), and so do both of a room's IDs.
    poll(lambda: any("registered on wss://" in line and "intercom-" in line for line in door.log_text().splitlines()),
         15, message=lambda: f"no ID registered over wss\n{door.log_tail()}")
    room = door.ring()
    for peer_id in (room["peerId"], room["knockPeerId"]):
        poll(lambda: f"{peer_id} registered on" in door.log_text(), 15, message=f"{peer_id} never registered")
    registered = [line for line in door.log_text().splitlines() if "registered on wss://" in line]
    home = [line for line in registered if room["peerId"] not in line and room["knockPeerId"] not in line]
    assert home, f"the home ID never registered over wss:\n{door.log_tail()}"
    assert "cannot register" not in door.log_text()
