"""The page ↔ page baselines' own deployment: the site `intercom web export` writes, on a static HTTP server, with
`intercom signaling-server` beside it — the way a hosted deployment of the web app runs.

Why the baseline pages do not use the door's built-in server: a page-hosted room has a guessable room-code ID,
and the door's server lets one address reach only 6 distinct room-code IDs in 10 minutes and make 4 knocks (a
peer ID offering to a room ID) a minute (docs/security-hostile-network.md, M1). Every baseline page of the bench
runs from one address, so from the third page ↔ page call on the guest's OFFER was held and answered EXPIRE
("Room … was not found or has expired"). `intercom signaling-server` is the plain PeerServer the exported site
is meant for, without those limits, so the baseline stays "a page calling another page through the same kind of
server" and the door's limits stay as they are.

Used by bench/run.py (LAN rows, in the bench's namespace) and bench/nat.py (in the NAT suite's internet).
"""

import subprocess
import urllib.request
from contextlib import nullcontext

from run import REPO_ROOT, BenchError, wait_for

WEB_ROOT = "rootfs-overlay/usr/share/intercom/web"
LAN_HOST, LAN_SIGNALING_PORT, LAN_STATIC_PORT = "127.0.0.1", 9000, 8000  # inside the bench's own namespace


def export_site(binary, scratch, signaling_url, base_url, ice_yaml=""):
    """`intercom web export` of the page for a deployment whose signaling server is `signaling_url` and whose
    pages live at `base_url`; `ice_yaml` is the config's `ice:` section (none: host candidates only). The
    exported directory."""
    config = scratch / "baseline.yaml"
    config.write_text(f'signaling:\n  listen: "off"\n  server: {signaling_url}\nweb:\n  base: {base_url}\n{ice_yaml}')
    site = scratch / "baseline-site"
    exported = subprocess.run([binary, "web", "export", "--config", config, "--web-root", WEB_ROOT, "--out", site],
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    if exported.returncode != 0:
        raise BenchError(f"`intercom web export` failed: {exported.stderr.strip()}")
    return site


def server_commands(binary, site, host, signaling_port, static_port):
    """The two processes of the deployment, by name: the PeerServer and the static host of `site`."""
    return {"signaling": [str(binary), "signaling-server", "--host", str(host), "--port", str(signaling_port)],
            "static": ["python3", "-m", "http.server", "--bind", str(host), "--directory", str(site),
                       str(static_port)]}


def wait_serving(base_url, where=nullcontext):
    """Until the static host serves the exported config.json (read from the namespace `where()` enters)."""
    def serving():
        with where():
            try:
                with urllib.request.urlopen(f"{base_url}/config.json", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False
    wait_for(serving, 15, "the baseline's static host to serve the exported site", interval=0.2)


class LanBaselineSite:
    """The deployment on this process's network namespace (the bench's), for the LAN page ↔ page baselines:
    both pages load `url` and signal through `intercom signaling-server`; no ICE servers, like the door's own
    page in the bench (host candidates on the namespace's interfaces)."""

    def __init__(self, binary, scratch):
        self.scratch = scratch / "lan-baseline"
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.url = f"http://{LAN_HOST}:{LAN_STATIC_PORT}"
        site = export_site(binary, self.scratch, f"ws://{LAN_HOST}:{LAN_SIGNALING_PORT}", self.url)
        self.processes = []
        try:
            for name, command in server_commands(binary, site, LAN_HOST, LAN_SIGNALING_PORT,
                                                 LAN_STATIC_PORT).items():
                log = open(self.scratch / f"{name}.log", "wb")
                self.processes.append((subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                                        stdout=log, stderr=subprocess.STDOUT), log))
            wait_serving(self.url)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for process, log in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
        self.processes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
