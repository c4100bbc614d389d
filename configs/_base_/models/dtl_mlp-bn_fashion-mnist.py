# Disposable transfer learning with the BN MLP of dtl_mlp-bn_digits.py on
# flattened 28x28 images (784 inputs), 5 target and 5 source classes.
_base_ = ['./dtl_mlp-bn_digits.py']

model = dict(classifier=dict(backbone=dict(in_features=784)))
