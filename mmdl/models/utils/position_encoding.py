# Copyright (c) mmdl contributors. All rights reserved.
"""Fixed 2-D sinusoidal positional encodings."""
import torch


def sinusoid_position_encoding_2d(channels: int,
                                  height: int,
                                  width: int,
                                  temperature: float = 10000.,
                                  device=None,
                                  dtype=torch.float32) -> torch.Tensor:
    """A fixed 2-D sinusoidal table of shape (channels, height, width).

    The first ``channels // 2`` channels encode the x (column) coordinate,
    the remaining ones the y (row) coordinate. Within each half of width
    ``d``, channel ``j`` holds ``sin(p / T^(2*floor(j/2)/d))`` for even ``j``
    and ``cos(...)`` for odd ``j`` (the Transformer convention per axis), as
    used by the official ScaledNonLocal code (Cho et al., ICIP 2022).

    **Reconstruction:** the exact channel layout inside each half follows the
    standard Transformer convention; it was not verified bit-exactly against
    the official ``get_sinusoid_encoding_table``.

    Args:
        channels (int): Number of channels (at least 2).
        height (int): Number of rows.
        width (int): Number of columns.
        temperature (float): The base ``T``. Defaults to 10000.
        device (optional): Device of the table.
        dtype (optional): Dtype of the table. Defaults to float32.

    Returns:
        Tensor: The table, shape (channels, height, width).
    """
    if channels < 2:
        raise ValueError(f'channels must be >= 2, got {channels}')
    dims = (channels // 2, channels - channels // 2)  # x half, y half

    def axis_table(length: int, dim: int) -> torch.Tensor:
        position = torch.arange(length, device=device, dtype=torch.float64)
        index = torch.arange(dim, device=device)
        freq = temperature**(2 * torch.div(index, 2, rounding_mode='floor') /
                             dim)
        angle = position[None, :] / freq[:, None]  # (dim, length)
        return torch.where(index[:, None] % 2 == 0, angle.sin(), angle.cos())

    x_table = axis_table(width, dims[0])[:, None, :].expand(-1, height, -1)
    y_table = axis_table(height, dims[1])[:, :, None].expand(-1, -1, width)
    return torch.cat([x_table, y_table]).to(dtype)
