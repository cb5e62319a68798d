"""Reference solutions for INF 5860 Exercise 6: convolutional nets."""

from __future__ import annotations


def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    effective = dilation * (kernel - 1) + 1
    return (size + 2 * padding - effective) // stride + 1


def output_shape(image: list[int], kernel: list[int], filters: int = 1) -> list[int]:
    """1) A 32x32x5 image filtered by one 5x5x5 kernel without padding gives 28x28x1:
    the kernel spans all input channels, and each filter gives one output channel."""
    height, width, channels = image
    k_height, k_width, k_channels = kernel
    if k_channels != channels:
        raise ValueError("the kernel must span every input channel")
    return [conv_output_size(height, k_height), conv_output_size(width, k_width), filters]
