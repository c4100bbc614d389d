# DARTS (first order) on CIFAR-10 (Liu, Simonyan and Yang, ICLR 2019,
# `train_search.py`): every edge a softmax mixture of the 8 operations in
# an 8-cell, 16-channel search network, 50 epochs, batch 64, Adam on the
# architecture (3e-4), SGD with cosine on the weights; half of the
# training set each.
_base_ = ['./edas_search-8c16_1xb64-50e_cifar10.py']

model = dict(classifier=dict(backbone=dict(mode='darts')))
