"""HTTPS and WSS from the built-in server (docs/signaling.md#https).

Browsers give camera and microphone only to secure pages, so a phone that opens the door's page over plain
http:// on the LAN can only watch. With `signaling.tls_certificate` / `tls_private_key` the built-in server
speaks HTTPS and WSS on its port; here a certificate for the device's veth address is made with openssl, a
Python client checks the WSS handshake against it (a real verification, not a skipped one), and Chromium
joins through an https:// link on that non-localhost address and sends its camera and microphone.
"""

import asyncio
import json
import ssl
import subprocess
import urllib.request

import pytest
import websockets

from polling import poll
from test_call import PAGE_TIMEOUT, check_device_media_rises, join, page_state, ring, wait_page_state

DEVICE_ADDRESS = "10.200.0.1"  # v0 in the test namespace (conftest.py)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed P-256 certificate for the device's address, and its key (PEM files)."""
    cert, key = tmp_path / "door-cert.pem", tmp_path / "door-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=door.test",
                    "-addext", f"subjectAltName=DNS:door.test,IP:{DEVICE_ADDRESS}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_device(start_device, certificate, tmp_path):
    cert, key = certificate
    config = tmp_path / "intercom.yaml"
    config.write_text(f"signaling:\n  tls_certificate: {cert}\n  tls_private_key: {key}\n"
                      f"paths:\n  state: {tmp_path}\n")
    device = start_device("--config", str(config))
    device.wait_for_log(r"listening on 0\.0\.0\.0:\d+ \(HTTPS/WSS\)", timeout=5)
    return device


def test_wss_signaling_verifies_against_the_device_certificate(tls_device, certificate):
    """A PeerJS client that trusts only the device's certificate registers over wss:// (OPEN arrives)."""
    cert, _ = certificate
    context = ssl.create_default_context(cafile=str(cert))
    url = f"wss://{DEVICE_ADDRESS}:{tls_device.port}/peerjs?key=peerjs&id=tls-probe-1&token=t0ken"

    async def register():
        async with websockets.connect(url, ssl=context, open_timeout=5) as socket:
            return json.loads(await asyncio.wait_for(socket.recv(), 5))

    assert asyncio.run(register()) == {"type": "OPEN"}


def test_plain_http_is_redirected_to_https(tls_device):
    """Someone who types http:// gets the https:// page, not a TLS error or an insecure copy.

    The redirect names the door's configured address (web.base, here http://localhost:PORT, as https) and
    not the request's Host header: the Host header is whatever the sender put there (a page on another
    site, a rebinding DNS name), and the door must not send visitors on to it. So a request to the LAN
    address, and one with a made-up Host, both land on https://localhost:PORT/ with path and query kept.
    """

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    expected = f"https://localhost:{tls_device.port}"
    for host in (None, "evil.example"):
        request = urllib.request.Request(f"http://{DEVICE_ADDRESS}:{tls_device.port}/js/app.js?room=12345")
        if host:
            request.add_header("Host", host)
        with pytest.raises(urllib.request.HTTPError) as raised:
            opener.open(request, timeout=5)
        assert raised.value.code in (301, 302, 303, 307, 308), raised.value
        assert raised.value.headers["Location"] == f"{expected}/js/app.js?room=12345", dict(raised.value.headers)


def test_phone_on_the_lan_joins_with_camera_over_https(tls_device, more_browsers):
    """The join link on the device's LAN address (not localhost) is a secure page: the browser sends its
    camera and microphone, and the device decodes both."""
    browser = more_browsers("--ignore-certificate-errors")
    link = ring(tls_device)
    lan_link = link.replace(f"http://localhost:{tls_device.port}", f"https://{DEVICE_ADDRESS}:{tls_device.port}")
    assert lan_link.startswith("https://"), lan_link
    browser.get(lan_link)
    wait_page_state(browser, "ready", PAGE_TIMEOUT)
    assert browser.execute_script("return window.isSecureContext") is True
    join(browser, lan_link)
    check_device_media_rises(tls_device)
    poll(lambda: tls_device.state()["call"]["videoWidth"] > 0, 10,
         message=lambda: f"the device decodes no picture from the browser's camera: {tls_device.state()['call']}")
    assert page_state(browser) == "in-call"
