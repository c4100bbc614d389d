# Quick demo: DARTS (first order, every edge a softmax mixture) on the
# same digits search as the EDAS quick config, for comparison.
_base_ = ['./edas_search-5c8_1xb64-10e_digits_quick.py']

model = dict(classifier=dict(backbone=dict(mode='darts')))
