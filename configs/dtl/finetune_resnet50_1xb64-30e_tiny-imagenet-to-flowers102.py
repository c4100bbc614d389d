# Baseline: plain fine-tuning, Tiny-ImageNet -> Flowers-102, same schedule
# and test as DTL.
_base_ = ['./dtl_resnet50_1xb64-30e_tiny-imagenet-to-flowers102.py']

model = dict(disposal_loss=None)
