"""Builders of test inputs by area (importable as ``builders`` because ``pythonpath = tests``).

- :mod:`builders.files`: random-noise images, text lists, labelled and flat image folders;
- :mod:`builders.datasets`: the classification data sets in their official layouts (ImageNet, Places205,
  iNaturalist 2018, VOC07, COCO2014 SVM labels);
- :mod:`builders.fashion_mnist`: the Fashion-MNIST converter's output;
- :mod:`builders.dense_datasets`: detection / segmentation data sets (COCO 2017, VOC0712, VOC12aug, Cityscapes);
- :mod:`builders.checkpoints`: checkpoint files in every layout the loader reads;
- :mod:`builders.feature_folders`: feature folders written directly from arrays;
- :mod:`builders.runs`: a tiny training config and a process holding a work-dir lock.

Tests take the shared ones as fixtures from ``tests/conftest.py``. ``REPO_ROOT`` is the one place the repository
root is derived; tests get it from the ``repo_root`` fixture.
"""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
