#!/usr/bin/env python3
"""What recording a clip costs: extra CPU of the recorder's branch and the bytes/s it writes, at 720p30.

Runs gst-launch-1.0 pipelines shaped like the door's send side (videotestsrc → x264enc as the door sets it up →
tee → fakesink), each for a fixed length of stream time, with and without the clip branch that ClipRecorder adds
(its description is read from Sources/Media/ClipRecorder.swift, so the two cannot drift apart). Runs alternate
with/without so load from other work on the machine falls on both; CPU is the child's user+system time from
wait4(). Two shapes:

  encode  — the whole send side, encoder included: what the door pays in total, recording or not.
  replay  — a pre-encoded H.264 stream replayed in real time: the branch's own cost without the encoder's noise.

The picture is videotestsrc snow, which no encoder can compress: the encoder runs at its bitrate cap, so the
write rate is the most a clip can take (a real doorstep compresses better).

    .venv/bin/python bench/recording.py [--seconds 20] [--runs 3] [--container mp4|mkv]

`--container` picks the branch: fragmented MP4 (the default: what the door records) or Matroska.

Prints a table; asserts nothing (figures go to docs/visits.md).
"""

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from results_file import RESULTS, write_result

REPO_ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT, FPS, KBPS = 1280, 720, 30, 2500


def branch_description(container="mp4"):
    source = (REPO_ROOT / "Sources" / "Media" / "ClipRecorder.swift").read_text()
    name = "mp4BranchDescription" if container == "mp4" else "branchDescription"
    match = re.search(rf"static let {name} = (.*?)\n\n", source, re.S)
    if not match:
        raise SystemExit(f"cannot find ClipRecorder.{name}")
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1)))


def encoder(frames):
    return (f"videotestsrc is-live=true pattern=snow num-buffers={frames}"
            f" ! video/x-raw,width={WIDTH},height={HEIGHT},framerate={FPS}/1"
            f" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate={KBPS} vbv-buf-capacity=200"
            " ! video/x-h264,profile=constrained-baseline")


def run(description):
    """CPU seconds (user+system) of one gst-launch-1.0 run to EOS, and its wall time."""
    started = time.monotonic()
    child = subprocess.Popen(["gst-launch-1.0", "-q", "-e"] + description.split(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"gst-launch-1.0 failed ({status}): {child.stderr.read().decode()[-500:]}\n{description}")
    return usage.ru_utime + usage.ru_stime, wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--container", choices=["mp4", "mkv"], default="mp4")
    parser.add_argument("--out", default=str(RESULTS / "recording.md"),
                        help="where the table is written as well (committed with `make bench`'s other results)")
    args = parser.parse_args()
    frames = args.seconds * FPS
    branch = branch_description(args.container)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as scratch:
        clip = os.path.join(scratch, "clip." + args.container)
        stream = os.path.join(scratch, "stream.mkv")
        run(encoder(frames) + f" ! h264parse ! matroskamux ! filesink location={stream}")
        shapes = {
            "encode": encoder(frames) + " ! tee name=t ! queue ! fakesink",
            "replay": f"filesrc location={stream} ! matroskademux ! identity sync=true ! tee name=t ! queue ! fakesink",
        }
        for shape, base in shapes.items():
            without, with_, rates = [], [], []
            for _ in range(args.runs):
                without.append(run(base)[0])
                if os.path.exists(clip):
                    os.unlink(clip)
                cpu, _ = run(base + f" t. ! {branch} location={clip}")
                with_.append(cpu)
                rates.append(os.path.getsize(clip) / args.seconds)
            a, b = statistics.median(without), statistics.median(with_)
            rows.append((shape, a, b, (b - a) / args.seconds * 100, statistics.median(rates)))
    load = os.getloadavg()[0]
    lines = [f"recording ({args.container}) at {WIDTH}x{HEIGHT}@{FPS}, x264enc {KBPS} kbit/s, {args.seconds} s of stream, "
             f"median of {args.runs} runs each, load average {load:.1f}, {os.cpu_count()} cores",
             "",
             "| shape  | CPU s without | CPU s with | extra CPU (% of one core) | written (kB/s) |",
             "|--------|---------------|------------|---------------------------|----------------|"]
    for shape, a, b, extra, rate in rows:
        lines.append(f"| {shape:6} | {a:13.2f} | {b:10.2f} | {extra:25.1f} | {rate / 1000:14.0f} |")
    print("\n".join(lines))
    write_result(args.out, "Recording a visit's clip: CPU and write rate", "bench/recording.py", lines)

if __name__ == "__main__":
    main()
