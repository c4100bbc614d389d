# Disposable transfer at paper scale: the protocol of dtl_sgd_20e.py with
# SGD lr 0.01 (momentum 0.9, weight decay 5e-4) and cosine decay over 30
# epochs; the piggyback-learning test retrains with the augmented training
# pipelines, so nothing is cached.
_base_ = ['./dtl_sgd_20e.py']

optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = dict(T_max=30, end=30)
train_cfg = dict(max_epochs=30, val_interval=5)
test_cfg = dict(cache=False)
