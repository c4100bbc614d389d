# Copyright (c) mmdl contributors. All rights reserved.
"""Benchmarks of mmdl components, run by ``tools/analysis_tools/benchmark_*``.

Each module measures one component side by side with its baseline on the
harness of :mod:`mmdl.utils.benchmark` and returns a JSON-ready dict with a
``summary``:

* :mod:`mmdl.benchmarks.curvature`: curvature collection and Kronecker
  penalties of :mod:`mmdl.continual`, against peer libraries and bare
  matrix products;
* :mod:`mmdl.benchmarks.non_local`: :class:`~mmdl.models.ScaledNonLocal2d`
  against mmcv's ``NonLocal2d`` and against the layers both blocks need;
* :mod:`mmdl.benchmarks.gcloss` and :mod:`mmdl.benchmarks.rescl`: a DTL
  step against fine-tuning, ResCL's merged network against the original;
* :mod:`mmdl.benchmarks.nas`: single-edge (EDAS) search steps against
  DARTS, and the derivation gap of each.

The modules are not imported here, so that ``import mmdl.benchmarks`` stays
cheap and the optional peer libraries are only looked for when asked.
"""
