from .transforms import *  # noqa: F401,F403  isort:skip
from .base_dataset import BaseImageDataset
from .coco import COCO2014Classification, convert_coco_svm_labels
from .heldout import HeldoutSubset, heldout_count, heldout_split
from .image_list import ImageList
from .imagenet import ImageNet
from .inaturalist import INaturalist2018
from .places205 import Places205
from .voc import VOC_CLASSES, VOC07Classification

__all__ = ['BaseImageDataset', 'ImageList', 'ImageNet', 'Places205', 'INaturalist2018', 'VOC07Classification',
           'VOC_CLASSES', 'COCO2014Classification', 'convert_coco_svm_labels', 'HeldoutSubset', 'heldout_count',
           'heldout_split']
