"""Reference solutions for INF 5860 Exercise 8: deep learning architectures."""

from __future__ import annotations


def iou(box_a: list[float], box_b: list[float]) -> float:
    """Reference for the `iou` code question: intersection over union of two axis-aligned
    boxes given as [x1, y1, x2, y2] (x1 <= x2, y1 <= y2). Disjoint or touching boxes give
    0; two empty boxes give 0 rather than dividing by zero."""
    ax1, ay1, ax2, ay2 = (float(v) for v in box_a)
    bx1, by1, bx2, by2 = (float(v) for v in box_b)
    if ax2 < ax1 or ay2 < ay1 or bx2 < bx1 or by2 < by1:
        raise ValueError("a box is [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2")
    overlap = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - overlap
    return overlap / union if union > 0 else 0.0


def iou_unclamped(box_a: list[float], box_b: list[float]) -> float:
    """The slip of not clamping the overlap's width and height at 0: for boxes apart in
    both directions the two negative lengths multiply into a positive "intersection"."""
    ax1, ay1, ax2, ay2 = (float(v) for v in box_a)
    bx1, by1, bx2, by2 = (float(v) for v in box_b)
    overlap = (min(ax2, bx2) - max(ax1, bx1)) * (min(ay2, by2) - max(ay1, by1))
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - overlap
    return overlap / union if union != 0 else 0.0
