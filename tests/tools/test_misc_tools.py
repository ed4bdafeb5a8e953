import mmcv
from builders.datasets import make_imagenet

# Relative to the repository root, where run_tool runs the tools.
DEMO = 'configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py'


def test_print_config_shows_merged_values(run_tool):
    out = run_tool('misc/print_config.py', DEMO, '--cfg-options', 'train_cfg.max_iters=7', process=True,
                   timeout=300).stdout
    assert "type='RelativeLoc'" in out and 'max_iters=7' in out and "backbone_mode='dedup'" in out


def test_browse_dataset_lays_out_relative_location_patches(tmp_path, run_tool):
    data = make_imagenet(str(tmp_path / 'imagenet'), size=28)
    out = run_tool('misc/browse_dataset.py', DEMO, '--num', '2', '--out', tmp_path / 'vis',
                   '--cfg-options', f'train_dataloader.dataset.data_root={data["data_root"]}',
                   'train_dataloader.dataset.data_prefix.img_path=train', process=True, timeout=300).stdout
    paths = out.split()
    assert len(paths) == 2
    img = mmcv.imread(paths[0])
    assert img.shape == (3 * 24 + 2 * 4, 3 * 24 + 2 * 4, 3)  # 3x3 patches of 24 px, 4-px gaps
