"""Request bodies: the built-in web server takes GET and HEAD without a body. Before, a POST got the page
(200) and its body was then read as the next request on the same connection, which stayed open; now any
other method is answered 405 and a GET with a body 413, at once, and the connection closes — whether the body
is all there, chunked, far larger than the headers said, or smaller than Content-Length claims.
"""

import socket
import time

import pytest

REQUESTS = {
    "POST with a body": (b"POST / HTTP/1.1\r\nHost: door\r\nContent-Length: 5\r\n\r\nhello", 405),
    "PUT with a body": (b"PUT /x HTTP/1.1\r\nHost: door\r\nContent-Length: 5\r\n\r\nhello", 405),
    "POST of 100 KB": (b"POST / HTTP/1.1\r\nHost: door\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100_000, 405),
    "chunked POST": (b"POST / HTTP/1.1\r\nHost: door\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 405),
    "POST that lies about its length": (b"POST / HTTP/1.1\r\nHost: door\r\nContent-Length: 1000\r\n\r\nhello", 405),
    "GET with a body": (b"GET / HTTP/1.1\r\nHost: door\r\nContent-Length: 5\r\n\r\nhello", 413),
    "chunked GET": (b"GET / HTTP/1.1\r\nHost: door\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 413),
}

# lws closes an idle keep-alive connection on its own after 5 s (4.1) or more: a close well before that is ours.
CLOSE_WITHIN = 3.0


def exchange(port, data):
    """(status, seconds until the door closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=CLOSE_WITHIN) as connection:
        connection.sendall(data)
        started, received = time.monotonic(), b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pytest.fail(f"the connection was still open after {CLOSE_WITHIN} s; got {received[:80]!r}")
        closed_after = time.monotonic() - started
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else None
    return status, closed_after, received


@pytest.mark.parametrize("name", list(REQUESTS))
def test_a_request_with_a_body_is_refused_and_the_connection_closes(door, name):
    data, expected = REQUESTS[name]
    status, closed_after, received = exchange(door.port, data)
    took, _ = door.timed_state()
    print(f"L: {name}: {status}, closed after {closed_after * 1000:.0f} ms; ctl state {took * 1000:.0f} ms")
    assert status == expected, received[:200]
    assert b"\r\nconnection: close\r\n" in received.lower()
    assert took < 0.2
    # The page is still served.
    status, _, received = exchange(door.port, b"GET / HTTP/1.1\r\nHost: door\r\nConnection: close\r\n\r\n")
    assert status == 200 and b"<html" in received.lower()
