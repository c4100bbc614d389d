# Ablation "independent maps": face, mask and background maps are
# independent sigmoids, tied by the complementarity loss
# mean((A_face - (1 - A_mask)(1 - A_background))^2) (weight 1) instead of
# the partition.
_base_ = ['./mfsa_iresnet50_8xb128-25e_ms1mv3.py']

model = dict(neck=dict(mode='independent'))
