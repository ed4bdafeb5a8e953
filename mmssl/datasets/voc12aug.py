"""VOC 2012 + SBD ("VOC12aug") segmentation training set with a check of the image list (needs mmsegmentation).

mmseg's ``tools/dataset_converters/voc_aug.py`` writes two lists into ``VOC2012/ImageSets/Segmentation``:
``trainaug.txt`` with the 10,582 training images of the benchmark (VOC12 train + SBD, minus VOC12 val) and
``aug.txt`` with 9,118 (SBD minus VOC12 train *and* val), which mmseg's own config concatenates with VOC12
``train.txt``. Training on ``aug.txt`` alone silently drops the 1,464 VOC12 train images; this dataset refuses it.

Not imported by ``mmssl.datasets`` (mmseg is optional): configs load it with
``custom_imports=dict(imports=['mmssl.datasets.voc12aug'])`` and ``type='mmssl.VOC12AugDataset'``.
"""
from typing import List

from mmseg.datasets import PascalVOCDataset

from mmssl.registry import DATASETS

#: Images in the benchmark's training list and in mmseg's SBD-only ``aug.txt``.
TRAINAUG_IMAGES = 10582
SBD_ONLY_IMAGES = 9118


@DATASETS.register_module()
class VOC12AugDataset(PascalVOCDataset):
    """mmseg's ``PascalVOCDataset`` that refuses mmseg's 9,118-image ``aug.txt`` as its image list.

    Each item is as in mmseg: ``img_path``, ``seg_map_path`` (``SegmentationClassAug`` PNGs, 21 classes, 255 =
    ignore). Arguments are mmseg's; ``ann_file`` should be ``ImageSets/Segmentation/trainaug.txt`` (10,582).
    """

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if len(data_list) == SBD_ONLY_IMAGES:
            raise ValueError(
                f'{self.ann_file} lists {SBD_ONLY_IMAGES:,} images: that is mmseg\'s aug.txt (SBD minus VOC12 train '
                f'and val), which leaves out the 1,464 VOC12 train images. Train on ImageSets/Segmentation/'
                f'trainaug.txt ({TRAINAUG_IMAGES:,} images), written by the same converter '
                '(mmseg tools/dataset_converters/voc_aug.py).')
        return data_list
