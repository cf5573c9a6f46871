"""The networks of §3: fully connected ReLU nets, with the 2012 dropout regularisers.

Teacher: 784-1200-1200-10, dropout 20 % on the inputs and 50 % on hidden units, and a max-norm bound on each
hidden unit's incoming weight vector (Hinton et al. 2012, "Improving neural networks by preventing
co-adaptation of feature detectors"). Student: 784-800-800-10 with none of these.
"""

import math

import torch
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout: zero each unit with probability p while training, scale the rest by 1/(1-p).
    Same maths as ``nn.Dropout``; on the CPU only the mask is drawn differently (``keep_mask``)."""

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":  # a GPU draws random floats fast: PyTorch's fused kernel
            return nn.functional.dropout(x, self.p, training=True)
        # bool → uint8 is free (same bytes), and uint8 → float converts faster than bool → float
        keep = keep_mask(x.shape, self.p, x.device).view(torch.uint8).to(x.dtype)
        return x * keep.mul_(1 / (1 - self.p))  # the scale folded into the mask: one multiply

    def extra_repr(self) -> str:
        return f"p={self.p}"


def keep_mask(shape: torch.Size, p: float, device: torch.device) -> torch.Tensor:
    """A boolean mask of ``shape``, each entry False (dropped) with probability p, independently.

    Cut from 63-bit random integers, several units per draw, rather than one random float per unit (on the CPU,
    drawing the floats can cost more than the step's matrix multiplies). Each unit gets its own k-bit field u of a
    draw, uniform on 0 … 2^k − 1, and is dropped when u < p·2^k; k is the fewest bits that make p·2^k whole, so
    P(drop) = p exactly (p = 0.5: one bit), or within 2^-32 of p (0.2: 31 bits), finer than ``torch.rand``.
    """
    bits, dropped_below = drop_field(p)
    per_draw = 63 // bits
    n = math.prod(shape)
    draws = torch.empty((n + per_draw - 1) // per_draw, 1, dtype=torch.int64, device=device).random_()  # [0, 2^63)
    fields = (draws >> torch.arange(0, per_draw * bits, bits, device=device)) & (2**bits - 1)  # (draws, per_draw)
    return (fields.view(-1)[:n] >= dropped_below).view(shape)


def drop_field(p: float) -> tuple[int, int]:
    """(k, t): a unit is dropped when its k-bit random field is below t, so P(drop) = t / 2^k ≈ p."""
    bits = next((k for k in range(1, 32) if (p * 2**k).is_integer()), 31)
    return bits, round(p * 2**bits)


class MLP(nn.Module):
    """Flatten → [dropout → Linear → ReLU] per hidden layer → dropout → Linear to the logits."""

    def __init__(self, hidden: tuple[int, ...], input_dropout: float = 0.0, hidden_dropout: float = 0.0):
        super().__init__()
        widths = (28 * 28, *hidden)  # MNIST's pixels
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [Dropout(input_dropout if i == 0 else hidden_dropout), nn.Linear(n_in, n_out), nn.ReLU()]
        layers += [Dropout(hidden_dropout if hidden else input_dropout), nn.Linear(widths[-1], 10)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def hidden_layers(self) -> list[nn.Linear]:
        """The Linear layers whose outputs are hidden units (all but the output layer)."""
        return [m for m in self.net if isinstance(m, nn.Linear)][:-1]

    @property
    def output_layer(self) -> nn.Linear:
        return self.net[-1]


@torch.no_grad()
def apply_max_norm(model: MLP, radius: float) -> None:
    """Project each hidden unit's incoming weight vector onto the ball ‖w‖₂ ≤ radius. Row i of a Linear weight
    is unit i's incoming vector; ``renorm_`` rescales exactly the rows whose norm exceeds ``radius``."""
    for layer in model.hidden_layers():
        layer.weight.renorm_(p=2, dim=0, maxnorm=radius)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class ConvNet(nn.Module):
    """The tutorial's CIFAR-10 nets (experiments/cifar10.py): conv 3×3 (padding 1) → ReLU → 2×2 max-pool → one linear
    layer; the teacher has 64 channels, the student 16."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(channels * 16 * 16, 10)  # 32×32 images, pooled to 16×16; 10 classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))
