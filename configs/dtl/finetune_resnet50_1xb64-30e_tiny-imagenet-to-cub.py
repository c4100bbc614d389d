# Baseline: plain fine-tuning, Tiny-ImageNet -> CUB-200-2011, same schedule
# and test as DTL.
_base_ = ['./dtl_resnet50_1xb64-30e_tiny-imagenet-to-cub.py']

model = dict(disposal_loss=None)
