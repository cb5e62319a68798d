"""Exercise 8 (demo student s100007: never returns)."""


def iou(box_a, box_b):
    while True:
        pass
