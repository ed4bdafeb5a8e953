import copy
import math
import os
import tempfile

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from dist_workers import batch, npid_cfg, npid_two_rank_worker
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmssl.registry import MODELS
from mmssl.utils import register_all_modules

register_all_modules()


@pytest.mark.parametrize('loss_type', ['infonce', 'nce'])
def test_step_updates_bank_entries_with_momentum(loss_type):
    torch.manual_seed(0)
    model = MODELS.build(npid_cfg(loss_type))
    model.init_weights()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    data = batch([3, 7])
    old_bank = model.memory_bank.feature_bank.clone()
    model.eval()
    with torch.no_grad():
        embeddings = model.embed(model.data_preprocessor(copy.deepcopy(data))['inputs'])
    model.train()
    model.train_step(copy.deepcopy(data), optim)
    bank = model.memory_bank.feature_bank
    untouched = [i for i in range(16) if i not in (3, 7)]
    assert torch.equal(bank[untouched], old_bank[untouched])
    assert torch.allclose(bank.norm(dim=1), torch.ones(16), atol=1e-5)
    # Blend of the old entry and the (train-mode) embedding: closer to the embedding than the old entry was.
    for row, index in enumerate((3, 7)):
        assert F.cosine_similarity(bank[index], old_bank[index], dim=0) < 1
    if loss_type == 'nce':
        normalizer = model.head.nce_normalizer.item()
        assert normalizer > 0
        model.train_step(batch([1, 2]), optim)
        assert model.head.nce_normalizer.item() == normalizer, 'Z is estimated once, then fixed'
    assert embeddings.shape == (2, 16)


def test_momentum_formula():
    """mmselfsup 0.x/1.x SimpleMemory.update: normalise((1 - m) * old + m * normalise(new))."""
    bank = MODELS.build(dict(type='SimpleMemory', length=4, feat_dim=3, momentum=0.2))
    old = bank.feature_bank.clone()
    new = torch.randn(2, 3) * 3  # not normalised: the bank normalises it first, as the toolbox
    bank.update(torch.tensor([0, 2]), new)
    expected = F.normalize(0.8 * old[[0, 2]] + 0.2 * F.normalize(new, dim=1), dim=1)
    torch.testing.assert_close(bank.feature_bank[[0, 2]], expected)
    wrong_meaning = F.normalize(0.2 * old[[0, 2]] + 0.8 * F.normalize(new, dim=1), dim=1)
    assert not torch.allclose(bank.feature_bank[[0, 2]], wrong_meaning, atol=1e-3)
    torch.testing.assert_close(bank.feature_bank[[1, 3]], old[[1, 3]])
    with pytest.raises(IndexError, match='bank of 4 entries got sample indices in \\[0, 9\\]'):
        bank.update(torch.tensor([0, 9]), new)


def test_two_processes_keep_identical_banks():
    with tempfile.TemporaryDirectory() as tmp:
        manager = mp.Manager()
        results = manager.dict()
        mp.spawn(npid_two_rank_worker, args=(os.path.join(tmp, 'init'), results), nprocs=2, join=True)
        assert torch.equal(results[0], results[1])
        start = F.normalize(torch.randn(16, 16, generator=torch.Generator().manual_seed(0)), dim=1)
        changed = (results[0] - start).abs().sum(dim=1) > 0
        assert changed[:12].all() and not changed[12:].any(), 'both ranks applied all 12 updated entries'


def test_bad_loss_type():
    with pytest.raises(ValueError, match="'infonce' or 'nce'"):
        MODELS.build(npid_cfg(loss_type='softmax'))


def test_default_negatives_are_uniform_over_all_entries_own_included():
    """mmselfsup's default (ensure_neg=False): AliasMethod over torch.ones(length), the own entry included."""
    from mmssl.models.algorithms.npid import sample_negatives
    torch.manual_seed(0)
    indices = torch.tensor([0, 3, 4])
    negatives = sample_negatives(indices, length=5, num_negatives=5000)
    assert negatives.shape == (3, 5000)
    for row, index in zip(negatives, indices.tolist()):
        counts = torch.bincount(row, minlength=5).float()
        assert counts.min() > 850 and counts.max() < 1150, counts  # 1000 expected for each entry
        assert counts[index] > 850  # the sample's own entry is drawn as often as any other
    assert (sample_negatives(torch.tensor([0]), length=1, num_negatives=3) == 0).all()


def test_ensure_neg_never_draws_the_sample_itself():
    from mmssl.models.algorithms.npid import sample_negatives
    torch.manual_seed(0)
    indices = torch.tensor([0, 3, 4])
    negatives = sample_negatives(indices, length=5, num_negatives=2000, ensure_neg=True)
    assert negatives.shape == (3, 2000)
    assert not (negatives == indices[:, None]).any()
    for row, index in zip(negatives, indices.tolist()):  # every other entry is drawn, uniformly
        counts = torch.bincount(row, minlength=5).float()
        others = torch.cat([counts[:index], counts[index + 1:]])
        assert others.min() > 400 and others.max() < 600
    with pytest.raises(ValueError, match='at least 2 entries to draw negatives with ensure_neg'):
        sample_negatives(indices[:1], length=1, num_negatives=4, ensure_neg=True)


@pytest.mark.parametrize('ensure_neg', [False, True])
def test_npid_step_draws_negatives_as_configured(ensure_neg, monkeypatch):
    import mmssl.models.algorithms.npid as npid_module
    calls = []
    original = npid_module.sample_negatives

    def spy(indices, length, num_negatives, ensure):
        calls.append(ensure)
        return original(indices, length, num_negatives, ensure)

    monkeypatch.setattr(npid_module, 'sample_negatives', spy)
    model = MODELS.build(dict(npid_cfg(), ensure_neg=ensure_neg))
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    model.train_step(batch([1, 2]), optim)
    assert calls == [ensure_neg]


def test_configs_follow_the_toolbox(repo_root):
    base = Config.fromfile(str(repo_root / 'configs/selfsup/npid/npid_resnet50_8xb32-steplr-200e_in1k.py'))
    ensure = Config.fromfile(str(repo_root / 'configs/selfsup/npid/npid-ensure-neg_resnet50_8xb32-steplr-200e_in1k.py'))
    assert base.model.ensure_neg is False and ensure.model.ensure_neg is True
    assert base.model.memory_bank.momentum == 0.5 and base.model.neck.get('init_cfg') is None
    assert base.train_dataloader.drop_last is True and ensure.train_dataloader.drop_last is True


def test_linear_neck_keeps_pytorch_default_init():
    """mmselfsup 0.x/1.x LinearNeck: init_cfg=None, i.e. nn.Linear's U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    neck = MODELS.build(dict(type='LinearNeck', in_channels=2048, out_channels=128))
    neck.init_weights()
    bound = 1 / math.sqrt(2048)
    assert neck.fc.weight.abs().max() <= bound
    assert neck.fc.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert neck.fc.bias.abs().max() <= bound and torch.count_nonzero(neck.fc.bias) > 0
