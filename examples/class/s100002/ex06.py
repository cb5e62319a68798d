"""Exercise 6 (demo student s100002: dilation ignored, channels mixed in the blur kernel, an MLP for the shapes)."""

import torch


def conv_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1):
    _, h, w = input_shape
    return (out_channels, (h + 2 * padding - kernel_size) // stride + 1, (w + 2 * padding - kernel_size) // stride + 1)


def blur_kernel(channels, size):
    return torch.ones(channels, channels, size, size) / size**2


def make_shape_classifier():
    # flatten the image and use a small MLP (fits the parameter limit)
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(16 * 16, 7), nn.ReLU(), nn.Linear(7, 3))
