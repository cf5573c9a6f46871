"""The networks of §3: fully connected ReLU nets, with the 2012 dropout regularisers.

Teacher: 784-1200-1200-10, dropout 20 % on the inputs and 50 % on hidden units,
and a max-norm bound on each hidden unit's incoming weight vector
(Hinton et al. 2012, "Improving neural networks by preventing co-adaptation of
feature detectors"). Student: 784-800-800-10 with none of these.
"""

from __future__ import annotations

import torch
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout: zero each unit with probability p while training, scale the rest by 1/(1-p).

    Same maths as ``nn.Dropout``; the mask comes from ``rand < keep`` because
    PyTorch's CPU ``bernoulli_`` made the mask the single slowest op of a teacher step.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, device=x.device) >= self.p
        return x * keep.to(x.dtype).mul_(1 / (1 - self.p))  # the scale folded into the mask: one multiply

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MLP(nn.Module):
    """Flatten → [dropout → Linear → ReLU] per hidden layer → dropout → Linear to the logits."""

    def __init__(
        self,
        hidden: tuple[int, ...],
        input_dropout: float = 0.0,
        hidden_dropout: float = 0.0,
        n_inputs: int = 28 * 28,
        n_classes: int = 10,
    ):
        super().__init__()
        widths = (n_inputs, *hidden)
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [Dropout(input_dropout if i == 0 else hidden_dropout), nn.Linear(n_in, n_out), nn.ReLU()]
        layers += [Dropout(hidden_dropout if hidden else input_dropout), nn.Linear(widths[-1], n_classes)]
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
    """Project each hidden unit's incoming weight vector onto the ball ‖w‖₂ ≤ radius.

    Row i of a Linear weight is unit i's incoming vector; ``renorm_`` rescales
    exactly the rows whose norm exceeds ``radius`` and leaves the others alone.
    """
    for layer in model.hidden_layers():
        layer.weight.renorm_(p=2, dim=0, maxnorm=radius)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class ConvNet(nn.Module):
    """The CIFAR-10 nets of seed 003: conv 3×3 (padding 1) → ReLU → 2×2 max-pool → one linear layer.

    Teacher: 64 channels, 165,642 parameters; student: 16 channels, 41,418.
    """

    def __init__(self, channels: int, image_size: int = 32, n_classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(channels * (image_size // 2) ** 2, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))
