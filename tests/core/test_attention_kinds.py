import numpy as np
import pytest

from playground.core.attention.kinds import above_diagonal_share


def test_above_diagonal_share_by_hand():
    causal = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]])
    assert above_diagonal_share(causal) == 0.0
    uniform = np.full((3, 3), 1 / 3)
    # rows look ahead 2/3, 1/3 and 0 of their weight: the mean is 1/3
    assert above_diagonal_share(uniform) == pytest.approx(1 / 3)
    stacked = np.stack([causal, uniform])[None]  # (layers, heads, T, T)
    assert above_diagonal_share(stacked) == pytest.approx(1 / 6)
