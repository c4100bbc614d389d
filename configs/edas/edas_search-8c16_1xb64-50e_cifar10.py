# EDAS search on CIFAR-10 in DARTS' 8-cell, 16-channel search network:
# the single-edge counterpart of darts_search-8c16_1xb64-50e_cifar10.py
# (same network, data, optimisers and schedule).
_base_ = ['./edas_search-20c16_1xb64-50e_cifar10.py']

model = dict(classifier=dict(backbone=dict(num_layers=8)))
