"""§2.1 measured: at high temperature, distillation becomes logit matching.

§2.1 shows that, for zero-mean logits and T large against them, the gradient of the T²-scaled soft term tends
to (z_i − v_i)/N: that of matching the teacher's logits with a squared error (Caruana et al.). Here the student
is trained on exactly that limit (losses.logit_matching_loss) and, from the same initial weights and batches, by
distillation at several T. The closer T is to the limit, the closer the distilled student's centred logits on
the test images should come to the logit-matching student's: their RMS difference and top-1 agreement are logged.
"""

import torch

from distill.losses import logit_matching_loss
from distill.presets import MnistPreset
from distill.run import Run
from distill.train import predict_logits

TEMPERATURES = (5.0, 20.0, 50.0, 100.0)


def run_logit_matching(run: Run, preset: MnistPreset) -> list[dict]:
    """The logit-matching student, then one distilled student per T, compared with it; return the rows."""
    first, test_images = len(run.rows), run.eval_split.images
    matched = run.distill(preset.distilled, preset.temperature, preset.hard_weight, soft_term=logit_matching_loss)
    centred = lambda z: z - z.mean(dim=1, keepdim=True)  # softmax ignores a shift common to all classes
    reference = centred(predict_logits(matched, test_images))

    def closeness(student: torch.nn.Module) -> dict:
        z = centred(predict_logits(student, test_images))
        return {
            "logit_rms_to_matching": round((z - reference).pow(2).mean().sqrt().item(), 4),
            "agreement_with_matching": round((z.argmax(1) == reference.argmax(1)).float().mean().item(), 6),
        }

    for temperature in TEMPERATURES:
        run.distill(preset.distilled, temperature, preset.hard_weight, after_training=closeness)
    return run.rows[first:]
