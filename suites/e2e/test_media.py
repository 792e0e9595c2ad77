"""The door's media controls as the page sees them: a keyframe on request keeps the picture flowing, and
turning the door's camera off (a valve, no renegotiation) makes the page cover the frozen picture.

Real headless Chromium in the test namespace against the real device binary; the page's inbound-rtp
statistics are read through the RTCPeerConnection probe of test_buttons.py.
"""

from polling import poll
from test_buttons import holds_for, install_pc_probe
from test_call import check_browser_video_rises, check_device_media_rises, join, page_test_hooks, ring

KEYFRAMES_JS = """
const done = arguments[arguments.length - 1];
Promise.all((window.__pcs || []).map((pc) => pc.getStats())).then((reports) => {
  let keyFrames = 0, frames = 0;
  for (const report of reports) report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      keyFrames += s.keyFramesDecoded || 0;
      frames += s.framesDecoded || 0;
    }
  });
  done({keyFrames, frames});
}).catch((e) => done({error: String(e)}));
"""


def video_stats(browser):
    stats = browser.execute_async_script(KEYFRAMES_JS)
    assert "error" not in stats, stats
    return stats


def test_keyframe_on_request_and_the_picture_keeps_flowing(device, browser):
    install_pc_probe(browser)
    join(browser, ring(device))
    check_device_media_rises(device)
    check_browser_video_rises(browser)
    before = video_stats(browser)
    sent_before = device.state()["call"]["keyframesSent"]
    assert device.control({"cmd": "keyframe"}) == {"ok": True}
    # The encoder's next frame is a keyframe: the page decodes one more than before, the device counts it.
    poll(lambda: video_stats(browser)["keyFrames"] > before["keyFrames"], 5,
         message=lambda: f"the page decoded no new keyframe: {before} → {video_stats(browser)}")
    poll(lambda: device.state()["call"]["keyframesSent"] > sent_before, 5,
         message="the device counted no keyframe sent after the request")
    assert device.state()["call"]["keyframeRequests"] >= 1
    check_browser_video_rises(browser)


def test_camera_off_shows_a_placeholder_and_on_brings_the_picture_back(device, browser):
    install_pc_probe(browser)
    join(browser, ring(device))
    check_browser_video_rises(browser)
    assert page_test_hooks(browser).get("remoteVideoOff") in (None, False)

    assert device.control({"cmd": "camera", "off": True}) == {"ok": True}
    assert device.state()["call"]["cameraOff"] is True
    poll(lambda: page_test_hooks(browser).get("remoteVideoOff") is True, 5,
         message=lambda: f"the page shows no placeholder: {page_test_hooks(browser)}")
    assert browser.find_element("id", "remote-off").is_displayed()
    frames = video_stats(browser)["frames"]
    # No picture while off: the decoded frame count stays put for a second (the audio goes on).
    assert holds_for(lambda: video_stats(browser)["frames"] == frames, 1.0) is None, "frames still arrive with the camera off"

    assert device.control({"cmd": "camera", "off": False}) == {"ok": True}
    poll(lambda: page_test_hooks(browser).get("remoteVideoOff") is False, 5,
         message=lambda: f"the placeholder stayed after the camera came back: {page_test_hooks(browser)}")
    assert not browser.find_element("id", "remote-off").is_displayed()
    check_browser_video_rises(browser)
