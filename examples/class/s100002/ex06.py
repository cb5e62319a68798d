"""Exercise 6 (demo student s100002: dilation ignored, channels mixed in the blur kernel)."""

import torch


def conv_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1):
    _, h, w = input_shape
    return (out_channels, (h + 2 * padding - kernel_size) // stride + 1, (w + 2 * padding - kernel_size) // stride + 1)


def blur_kernel(channels, size):
    return torch.ones(channels, channels, size, size) / size**2
