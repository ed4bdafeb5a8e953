import os.path as osp

import numpy as np
import pytest
from builders.datasets import PLACES_PREFIX, make_places205
from builders.files import write_lines

from mmssl.datasets import Places205
from mmssl.datasets.places205 import places_category


@pytest.fixture
def places(tmp_path):
    return make_places205(str(tmp_path / 'places205'))


def test_official_csv(places):
    train = Places205(**places['train'])
    assert train.metainfo['classes'] == places['classes'] == ('abbey', 'airport_terminal', 'bakery/shop')
    np.testing.assert_array_equal(train.get_gt_labels(), places['train_labels'])
    assert train.get_data_info(0)['img_path'] == osp.join(places['data_root'], PLACES_PREFIX,
                                                          'a/abbey/00000000.jpg')
    val = Places205(**places['val'])
    np.testing.assert_array_equal(val.get_gt_labels(), places['val_labels'])


def test_category_names():
    assert places_category('a/abbey/00000001.jpg') == 'abbey'
    assert places_category('a/apartment_building/outdoor/00000001.jpg') == 'apartment_building/outdoor'
    assert places_category('abbey/00000001.jpg') == 'abbey'


def rewrite(places, lines):
    path = osp.join(places['data_root'], places['train']['ann_file'])
    write_lines(path, lines)
    return path


def test_label_category_conflicts(places):
    rewrite(places, ['a/abbey/00000000.jpg 0', 'a/airport_terminal/00000000.jpg 0'])
    with pytest.raises(ValueError, match=r"train_places205\.csv, line 2: label 0 is used for category "
                                         r"'airport_terminal' here but for 'abbey' at .*line 1"):
        Places205(**places['train'])

    rewrite(places, ['a/abbey/00000000.jpg 0', 'a/abbey/00000001.jpg 1'])
    with pytest.raises(ValueError, match=r"line 2: category 'abbey' has label 1 here but 0"):
        Places205(**places['train'])

    rewrite(places, ['a/abbey/00000000.jpg 0', 'b/bakery/shop/00000000.jpg 2'])
    with pytest.raises(ValueError, match=r'train_places205\.csv: label 1 never occurs'):
        Places205(**places['train'])
    # Given class names remove the need to derive them.
    named = Places205(**places['train'], metainfo=dict(classes=['abbey', 'airport_terminal', 'bakery/shop']))
    np.testing.assert_array_equal(named.get_gt_labels(), [0, 2])


def test_malformed_and_missing(places):
    rewrite(places, ['a/abbey/00000000.jpg'])
    with pytest.raises(ValueError, match=r"train_places205\.csv, line 1: malformed line 'a/abbey/00000000\.jpg'"):
        Places205(**places['train'])
    rewrite(places, ['a/abbey/00000000.jpg 7'])
    with pytest.raises(ValueError, match=r'line 1: label 7 is outside the class range 0\.\.2'):
        Places205(**places['train'], metainfo=dict(classes=places['classes']))
    rewrite(places, ['a/abbey/00000000.jpg 0', 'a/abbey/99999999.jpg 0'])
    with pytest.raises(FileNotFoundError, match=r"train_places205\.csv, line 2: image '.*99999999\.jpg'"):
        Places205(**places['train'])
    with pytest.raises(ValueError, match='ann_file .* is required'):
        Places205(data_root=places['data_root'])
