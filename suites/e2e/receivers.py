"""HTTP receivers on loopback that stand in for what notifications go to: a generic webhook endpoint (also
Home Assistant's /api/webhook/<id>), an ntfy-compatible server, and HTTPS with a certificate authority the
test makes with openssl."""

import json
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NTFY_TOPIC_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass
class Received:
    at: float  # time.time() when the request was read
    method: str
    path: str
    headers: dict
    body: bytes
    status: int  # what the receiver answered

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A threaded HTTP(S) server on 127.0.0.1 that records every request. The first `fail_first` requests
    are answered 503; `respond` may replace the answer (returns status, body)."""
    fail_first: int = 0
    tls: ssl.SSLContext = None
    respond: callable = None
    requests: list = field(default_factory=list)

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(receiver.requests) < receiver.fail_first:
                    status, reply = 503, b"busy, try later"
                elif receiver.respond is not None:
                    status, reply = receiver.respond(self.path, self.headers, body)
                else:
                    status, reply = 200, b"{}"
                receiver.requests.append(Received(time.time(), self.command, self.path, dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    @property
    def accepted(self):
        return [r for r in self.requests if 200 <= r.status < 300]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class NtfyServer(Receiver):
    """Publishing as ntfy does it (docs.ntfy.sh/publish): JSON to `/` with the topic in the body, or the
    message as the body of a POST/PUT to `/<topic>` with Title, Click, Tags, Priority and Actions headers.
    Bad topics and bad JSON get 400, as from ntfy. Published messages are in `messages`, by topic."""

    def __init__(self, **kwargs):
        self.messages = {}
        super().__init__(respond=self._publish, **kwargs)

    def _publish(self, path, headers, body):
        topic = path.strip("/")
        if topic:
            message = {"topic": topic, "message": body.decode("utf-8", errors="replace"),
                       "title": _header_text(headers.get("Title")), "click": headers.get("Click"),
                       "tags": (headers.get("Tags") or "").split(",") if headers.get("Tags") else [],
                       "priority": int(headers.get("Priority") or 3)}
            if headers.get("Filename"):
                # An attachment: the body is the file, the message text travels in a header.
                message["attachment"] = {"name": headers["Filename"], "type": headers.get("Content-Type"),
                                         "size": len(body), "data": body}
                message["message"] = _header_text(headers.get("Message")) or f"You received a file: {headers['Filename']}"
            if headers.get("Actions"):
                try:
                    message["actions"] = _parse_actions(headers["Actions"])
                except ValueError:
                    return 400, b'{"code":40018,"error":"invalid action"}'
        else:
            try:
                message = json.loads(body)
            except ValueError:
                return 400, b'{"code":40001,"error":"invalid request: body is not JSON"}'
            if not isinstance(message, dict):
                return 400, b'{"code":40001,"error":"invalid request"}'
            topic = message.get("topic") or ""
        if not topic or len(topic) > 64 or not set(topic) <= NTFY_TOPIC_CHARS:
            return 400, b'{"code":40009,"error":"invalid request: topic invalid"}'
        priority = message.get("priority", 3)
        if not isinstance(priority, int) or not 1 <= priority <= 5:
            return 400, b'{"code":40007,"error":"invalid priority"}'
        for action in message.get("actions") or []:
            if action.get("action") not in ("view", "http", "broadcast", "copy") or not action.get("label"):
                return 400, b'{"code":40018,"error":"invalid action"}'
        self.messages.setdefault(topic, []).append(message)
        envelope = {"id": f"m{len(self.messages[topic])}", "time": int(time.time()), "event": "message", **message}
        if "attachment" in message:
            envelope["attachment"] = {k: v for k, v in message["attachment"].items() if k != "data"}
        return 200, json.dumps(envelope).encode()


def _header_text(value):
    """An RFC 2047 encoded word (=?UTF-8?B?...?=) decoded, as ntfy does for non-ASCII headers."""
    if value and value.startswith("=?UTF-8?B?") and value.endswith("?="):
        import base64
        return base64.b64decode(value[len("=?UTF-8?B?"):-2]).decode("utf-8")
    return value


def _parse_actions(text):
    """ntfy's short header form: `action, label, url[, clear=true]`, actions separated by `;`."""
    actions = []
    for part in text.split(";"):
        fields = [field.strip() for field in part.split(",")]
        if len(fields) < 3:
            raise ValueError(part)
        action = {"action": fields[0], "label": fields[1], "url": fields[2]}
        for extra in fields[3:]:
            key, _, value = extra.partition("=")
            action[key] = value == "true" if value in ("true", "false") else value
        actions.append(action)
    return actions


def _openssl(*args, cwd):
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {result.stderr}")


def make_certificate_authority(directory, name="intercom test CA"):
    """A self-signed CA (ca.pem) and a server certificate it signed for 127.0.0.1 and localhost. Returns
    (ca.pem path, an SSLContext for a server presenting that certificate)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", "ca.key", "-out", "ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
             cwd=directory)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr", cwd=directory)
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                          "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "server.ext", "-out", "server.pem", cwd=directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    return directory / "ca.pem", context


def _b64url_decode(text):
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url_encode(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushEndpoint(Receiver):
    """A push service's endpoint for one browser subscription, as RFC 8030 receives it: it holds the
    subscription's private key and auth secret (what the browser keeps), checks the VAPID authorization
    (RFC 8292: ES256 JWT for this origin, not expired, signed by the key in k=) and decrypts the aes128gcm
    body (RFC 8291). Accepted messages are in `messages`; anything that fails a check gets 401 or 400."""

    def __init__(self, **kwargs):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        import os
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_bytes = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.auth_secret = os.urandom(16)
        self.messages = []
        self.vapid_keys = []
        self.problems = []
        super().__init__(respond=self._receive, **kwargs)

    def subscription(self, path="/push/sub-1"):
        return {"endpoint": self.url + path,
                "keys": {"p256dh": _b64url_encode(self.public_bytes), "auth": _b64url_encode(self.auth_secret)}}

    def _receive(self, path, headers, body):
        try:
            self.vapid_keys.append(self._check_vapid(headers.get("Authorization") or ""))
            if headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError(f"Content-Encoding is {headers.get('Content-Encoding')!r}")
            if not (headers.get("TTL") or "").isdigit():
                raise ValueError("no TTL header")
            self.messages.append(json.loads(self._decrypt(body)))
        except Exception as error:  # any failed check is the sender's fault: refuse, and say why
            self.problems.append(repr(error))
            return 400, json.dumps({"error": repr(error)}).encode()
        return 201, b""

    def _check_vapid(self, authorization):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        scheme, _, params = authorization.partition(" ")
        if scheme != "vapid":
            raise ValueError(f"Authorization scheme is {scheme!r}, not vapid")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        token, key = fields["t"], _b64url_decode(fields["k"])
        header_b64, claims_b64, signature_b64 = token.split(".")
        header, claims = json.loads(_b64url_decode(header_b64)), json.loads(_b64url_decode(claims_b64))
        if header.get("alg") != "ES256":
            raise ValueError(f"JWT alg is {header.get('alg')!r}")
        if claims.get("aud") != self.url:
            raise ValueError(f"JWT aud is {claims.get('aud')!r}, not {self.url!r}")
        if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
            raise ValueError(f"JWT exp {claims.get('exp')} is not within the next 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError(f"JWT sub is {claims.get('sub')!r}")
        signature = _b64url_decode(signature_b64)
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if bad
        return fields["k"]

    def _decrypt(self, body):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
        salt, record_size, key_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender_public = body[21:21 + key_length]
        ciphertext = body[21 + key_length:]
        if record_size < 18 or len(ciphertext) > record_size:
            raise ValueError(f"record size {record_size} for {len(ciphertext)} bytes")
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_public)
        shared = self.private_key.exchange(ec.ECDH(), sender)

        def hkdf(salt_, key, info, length):
            return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt_, info=info).derive(key)

        ikm = hkdf(self.auth_secret, shared, b"WebPush: info\x00" + self.public_bytes + sender_public, 32)
        cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        plaintext = padded.rstrip(b"\x00")
        if not plaintext.endswith(b"\x02"):
            raise ValueError("the last record does not end in the delimiter 2")
        return plaintext[:-1]
