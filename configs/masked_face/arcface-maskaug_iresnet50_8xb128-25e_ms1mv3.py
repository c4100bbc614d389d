# Ablation "no attention": ArcFace IResNet-50 trained on the same masked
# MS1MV3 batches, without the attention neck (MaskedFaceRecognizer without
# a neck is a plain FaceRecognizer; the segmentation is unused).
_base_ = ['./mfsa_iresnet50_8xb128-25e_ms1mv3.py']

model = dict(neck=None)
