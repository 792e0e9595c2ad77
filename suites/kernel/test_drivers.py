"""The three virtual drivers are there: the base every other test in this suite stands on."""

import glob
import os


def test_drivers_loaded():
    assert glob.glob("/dev/dri/card*"), "vkms gave no /dev/dri/card*"
    assert glob.glob("/dev/video*"), "vivid gave no /dev/video*"
    assert os.path.isdir("/sys/kernel/config/gpio-sim"), "gpio-sim has no configfs directory"
