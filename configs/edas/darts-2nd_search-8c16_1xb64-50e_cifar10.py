# DARTS with second-order architecture gradients (`--unrolled`): one
# virtual SGD step of the weights, with the Hessian-vector product by
# central finite differences (radius 0.01 over the gradient norm).
_base_ = ['./darts_search-8c16_1xb64-50e_cifar10.py']

model = dict(unrolled=True, unrolled_radius=0.01)
