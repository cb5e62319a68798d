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


def receptive_field(kernels: tuple[int, ...] = (3, 3, 3), dilations: tuple[int, ...] = (1, 2, 4),
                    strides: tuple[int, ...] = (1, 1, 1)) -> int:
    """The theoretical field of view of stacked convolutions: each layer adds
    d·(k − 1) times the product of the strides before it. For 3×3 kernels with dilations
    1, 2, 4 and stride 1: 1 + 2 + 4 + 8 = 15."""
    size, jump = 1, 1
    for kernel, dilation, stride in zip(kernels, dilations, strides):
        size += dilation * (kernel - 1) * jump
        jump *= stride
    return size


def conv_output_shape(input_shape: tuple[int, int, int], out_channels: int, kernel_size: int,
                      stride: int = 1, padding: int = 0, dilation: int = 1) -> tuple[int, int, int]:
    """Reference for the `conv_output_shape` code question: the (channels, height, width) that
    torch.nn.Conv2d(C, out_channels, kernel_size, stride, padding, dilation) gives for an input
    of shape (C, height, width)."""
    _channels, height, width = input_shape
    return (out_channels, conv_output_size(height, kernel_size, padding, stride, dilation),
            conv_output_size(width, kernel_size, padding, stride, dilation))


def blur_kernel(channels: int, size: int):
    """4) The weight for torch.nn.functional.conv2d(x, weight, padding=size // 2) that
    box-blurs each of `channels` channels on its own: shape (channels, channels, size, size),
    1/size² on the diagonal blocks (output c reads only input c), zero elsewhere."""
    import torch

    weight = torch.zeros(channels, channels, size, size)
    for channel in range(channels):
        weight[channel, channel] = 1.0 / (size * size)
    return weight


def blur_kernel_mixing(channels: int, size: int):
    """The mix-up that fills every block: each output channel averages all input channels."""
    import torch

    return torch.full((channels, channels, size, size), 1.0 / (size * size))


def blur_kernel_grouped(channels: int, size: int):
    """The depthwise weight (channels, 1, size, size): right for groups=channels, not for
    the plain conv2d call the question asks for."""
    import torch

    return torch.full((channels, 1, size, size), 1.0 / (size * size))


# --- known mistakes of the conv_output_shape question ---------------------------------------------


def conv_output_shape_no_dilation(input_shape: tuple[int, int, int], out_channels: int, kernel_size: int,
                                  stride: int = 1, padding: int = 0, dilation: int = 1) -> tuple[int, int, int]:
    """The slip of ignoring the dilation: a dilated kernel spans d·(k − 1) + 1 pixels."""
    return conv_output_shape(input_shape, out_channels, kernel_size, stride, padding, 1)


def conv_output_shape_in_channels(input_shape: tuple[int, int, int], out_channels: int, kernel_size: int,
                                  stride: int = 1, padding: int = 0, dilation: int = 1) -> tuple[int, int, int]:
    """The slip of keeping the input's channel count: each of the out_channels filters
    spans every input channel and gives one output channel."""
    _, height, width = conv_output_shape(input_shape, out_channels, kernel_size, stride, padding, dilation)
    return (input_shape[0], height, width)


def make_shape_classifier() -> object:
    """cnn) A small convolutional net for the 16×16 shape images (circle, square, stripes):
    two 3×3 convolutions (8 and 16 channels) with ReLU, a 2×2 max-pool between them, then a
    global max-pool and one linear layer to the 3 class scores. 1,299 parameters.

    The global pool is what lets it ignore where the shape is: the same filters fire
    wherever the outline lies, and the pool keeps only whether they fired. torch is imported
    here, so the other questions of this module do not pay for it.
    """
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(16, 3),
    )
