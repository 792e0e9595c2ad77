#!/usr/bin/env python3
"""CPU per extra phone in a household visit, at 720p30 (docs/household.md).

Runs gst-launch-1.0 pipelines shaped like VisitFanout (Sources/Media/VisitFanout.swift): the camera encoded once
(videotestsrc pattern=ball → x264enc as the door sets it up → h264parse → tee), the microphone encoded once
(Opus → tee), a live audiomixer for the speaker, and per phone:

  send   — a video and an audio branch off the tees: queue → payloader with the phone's payload type → SRTP
           (srtpenc, AES-128-ICM + HMAC-SHA1-80, what a WebRTC call uses) → udpsink to loopback;
  voice  — the phone's Opus RTP (sent by a separate gst-launch process per phone, not measured) received on
           loopback → jitter buffer → depayloader → opusdec → into the mixer.

What it leaves out of webrtcbin: ICE connectivity checks, RTCP and congestion-control feedback, the DTLS
handshake (once per phone). Those are small and periodic against the per-packet work measured here.

CPU is the door pipeline's user+system time from /proc over a fixed window after a warm-up. Runs with 0, 1, 2
and 3 phones alternate, round after round, so load from other work on the machine falls on all of them; the
median per phone count is printed with the increment per phone (least squares over 1..3 phones).

    .venv/bin/python bench/household.py [--seconds 10] [--rounds 3] [--phones 3] [--pattern ball|snow]

Prints a table; asserts nothing (figures go to docs/household.md).
"""

import argparse
import os
import shlex
import signal
import socket
import statistics
import subprocess
import time

from results_file import RESULTS, write_result

WIDTH, HEIGHT, FPS, KBPS = 1280, 720, 30, 2000
# 16-byte key and 14-byte salt: a fixed test key, SRTP's cost does not depend on it.
SRTP_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
SRTP = (f"srtpenc key={SRTP_KEY} rtp-cipher=aes-128-icm rtp-auth=hmac-sha1-80"
        " rtcp-cipher=aes-128-icm rtcp-auth=hmac-sha1-80")
QUEUE = "queue max-size-buffers=0 max-size-bytes=0 max-size-time=200000000 leaky=downstream"
OPUS_CAPS = 'caps="application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111"'
TICKS = os.sysconf("SC_CLK_TCK")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def door(phones, sink_port, voice_ports, pattern="ball"):
    """The door's pipeline with `phones` phones, as one gst-launch description."""
    parts = [
        f"videotestsrc is-live=true pattern={pattern} ! videoconvert ! videoscale"
        f" ! video/x-raw,format=I420,width={WIDTH},height={HEIGHT},framerate={FPS}/1"
        f" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate={KBPS}"
        " ! video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1"
        " ! tee name=vtee allow-not-linked=true",
        "audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=960 ! audioconvert ! audioresample"
        " ! audio/x-raw,format=S16LE,rate=48000,channels=1"
        " ! opusenc bitrate=32000 frame-size=20 audio-type=voice inband-fec=true ! tee name=atee allow-not-linked=true",
        "audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! audio/x-raw,format=S16LE,rate=48000,channels=1"
        " ! audiomixer name=visitmix latency=20000000 ! audioconvert ! audioresample"
        " ! fakesink sync=true async=false",
    ]
    for phone in range(phones):
        video_pt = 96 + phone
        parts.append(f"vtee. ! {QUEUE} ! rtph264pay pt={video_pt} config-interval=-1 aggregate-mode=zero-latency"
                     f" ! {SRTP} ! udpsink host=127.0.0.1 port={sink_port} sync=false async=false")
        parts.append(f"atee. ! {QUEUE} ! rtpopuspay pt=111"
                     f" ! {SRTP} ! udpsink host=127.0.0.1 port={sink_port} sync=false async=false")
        parts.append(f"udpsrc address=127.0.0.1 port={voice_ports[phone]} {OPUS_CAPS}"
                     " ! rtpjitterbuffer latency=40 ! rtpopusdepay ! opusdec plc=true ! audioconvert ! audioresample"
                     " ! audio/x-raw,format=S16LE,rate=48000,channels=1"
                     " ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=100000000 leaky=downstream"
                     " ! visitmix.")
    return "  ".join(parts)


def phone_voice(port, pitch):
    return (f"audiotestsrc is-live=true wave=sine freq={pitch} samplesperbuffer=960 ! audioconvert ! audioresample"
            " ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000 frame-size=20 ! rtpopuspay pt=111"
            f" ! udpsink host=127.0.0.1 port={port}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def stop(child):
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def measure(phones, seconds, warmup, sink_port, voice_ports, pattern):
    """The door pipeline's CPU in percent of one core over `seconds`, after `warmup`."""
    child = subprocess.Popen(["gst-launch-1.0", "-q", *shlex.split(door(phones, sink_port, voice_ports, pattern))],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(warmup)
        if child.poll() is not None:
            raise SystemExit(f"door pipeline with {phones} phone(s) stopped: {child.stderr.read().decode()[-800:]}")
        start, started = cpu_seconds(child.pid), time.monotonic()
        time.sleep(seconds)
        if child.poll() is not None:
            raise SystemExit(f"door pipeline with {phones} phone(s) stopped: {child.stderr.read().decode()[-800:]}")
        used, elapsed = cpu_seconds(child.pid) - start, time.monotonic() - started
    finally:
        stop(child)
    return 100.0 * used / elapsed


def slope(points):
    xs, ys = zip(*points)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return (sum((x - mean_x) * (y - mean_y) for x, y in points)
            / sum((x - mean_x) ** 2 for x in xs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before the window starts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--phones", type=int, default=3, help="the most phones measured")
    parser.add_argument("--pattern", default="ball",
                        help="videotestsrc pattern: ball (a moving object on a still background, like a doorstep)"
                             " or snow (nothing compresses: the encoder at its cap, the most bytes per phone)")
    parser.add_argument("--out", default=str(RESULTS / "household.md"),
                        help="where the table is written as well (committed with `make bench`'s other results)")
    args = parser.parse_args()

    # Somewhere for the door's SRTP to land on loopback (never read: the kernel drops what does not fit).
    drain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    drain.bind(("127.0.0.1", 0))
    sink_port = drain.getsockname()[1]
    voice_ports = [free_udp_port() for _ in range(args.phones)]
    voices = [subprocess.Popen(["gst-launch-1.0", "-q", *shlex.split(phone_voice(port, 300 + 150 * index))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for index, port in enumerate(voice_ports)]
    results = {phones: [] for phones in range(args.phones + 1)}
    try:
        for _ in range(args.rounds):
            for phones in range(args.phones + 1):
                results[phones].append(measure(phones, args.seconds, args.warmup, sink_port, voice_ports,
                                               args.pattern))
    finally:
        for voice in voices:
            stop(voice)
        drain.close()

    medians = {phones: statistics.median(runs) for phones, runs in results.items()}
    lines = [f"household visit at {WIDTH}x{HEIGHT}@{FPS}, pattern {args.pattern}, x264enc {KBPS} kbit/s ultrafast;"
             f" {args.rounds} rounds of {args.seconds:g} s; CPU in % of one core (load: {os.getloadavg()[0]:.1f})",
             f"{'phones':>6}  {'median':>7}  {'runs':<30}  {'vs. one phone':>13}"]
    for phones, runs in results.items():
        delta = f"{medians[phones] - medians[1]:+.1f}" if phones >= 1 else ""
        lines.append(f"{phones:>6}  {medians[phones]:7.1f}  {', '.join(f'{run:.1f}' for run in runs):<30}  {delta:>13}")
    if args.phones >= 2:
        per_phone = slope([(phones, medians[phones]) for phones in range(1, args.phones + 1)])
        lines.append(f"CPU per extra phone: {per_phone:.1f} % of one core (least squares over 1..{args.phones} phones)")
    lines.append(f"first phone over encoders alone: {medians[1] - medians[0]:+.1f} % of one core")
    print("\n".join(lines))
    write_result(args.out, "CPU per extra phone in a household visit", "bench/household.py", lines)

if __name__ == "__main__":
    main()
