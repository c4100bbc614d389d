# Copyright (c) mmdl contributors. All rights reserved.
"""Knowledge distillation with softened outputs (LwF, ResCL)."""
import torch.nn.functional as F
from torch import Tensor


def soft_target_kl(student_logits: Tensor,
                   teacher_logits: Tensor,
                   temperature: float = 2.0) -> Tensor:
    """``T^2 * KL(softmax(teacher / T) || softmax(student / T))``, averaged
    over the samples.

    The ``T^2`` factor keeps the gradient's scale independent of ``T``
    (Hinton et al., 2015), as in LwF (Li and Hoiem, 2017).

    Args:
        student_logits (Tensor): ``(N, C)``, differentiable.
        teacher_logits (Tensor): ``(N, C)``, the soft targets' logits
            (treated as constants).
        temperature (float): ``T > 0``. Defaults to 2.

    Returns:
        Tensor: A scalar.
    """
    if temperature <= 0:
        raise ValueError(f'temperature must be positive, got {temperature}')
    if student_logits.shape != teacher_logits.shape:
        raise ValueError('student and teacher logits differ in shape: '
                         f'{tuple(student_logits.shape)} vs '
                         f'{tuple(teacher_logits.shape)}')
    log_student = F.log_softmax(student_logits / temperature, dim=1)
    log_teacher = F.log_softmax(teacher_logits.detach() / temperature, dim=1)
    kl = F.kl_div(
        log_student, log_teacher, reduction='batchmean', log_target=True)
    return kl * temperature * temperature
