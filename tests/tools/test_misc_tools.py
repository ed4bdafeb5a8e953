import subprocess
import sys
from pathlib import Path

import mmcv
from data_utils import make_imagenet

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py'


def run(*args):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_print_config_shows_merged_values():
    out = run(REPO / 'tools/misc/print_config.py', DEMO, '--cfg-options', 'train_cfg.max_iters=7')
    assert "type='RelativeLoc'" in out and 'max_iters=7' in out and "backbone_mode='dedup'" in out


def test_browse_dataset_lays_out_relative_location_patches(tmp_path):
    data = make_imagenet(str(tmp_path / 'imagenet'), size=28)
    out = run(REPO / 'tools/misc/browse_dataset.py', DEMO, '--num', '2', '--out', tmp_path / 'vis',
              '--cfg-options', f'train_dataloader.dataset.data_root={data["data_root"]}',
              'train_dataloader.dataset.data_prefix.img_path=train')
    paths = out.split()
    assert len(paths) == 2
    img = mmcv.imread(paths[0])
    assert img.shape == (3 * 24 + 2 * 4, 3 * 24 + 2 * 4, 3)  # 3x3 patches of 24 px, 4-px gaps
