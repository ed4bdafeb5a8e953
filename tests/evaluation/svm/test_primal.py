import logging

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from sklearn.svm import LinearSVC

from mmssl.evaluation.svm import SVMProblems, SVMProtocol, build_svm_solver, l2_normalize, parse_memory
from mmssl.evaluation.svm._synthetic import make_voc_like_features
from mmssl.evaluation.svm.primal import _hessian_product, chunk_transpose_product, plan_memory

COSTS = (2**-10, 0.0625, 1.0, 100.0)


def toy_problem(seed=0, n=60, dim=200):
    # Post-ReLU-like rows with a shared mean direction, fewer samples than dimensions (as VOC07).
    rng = np.random.default_rng(seed)
    features = l2_normalize(np.abs(rng.standard_normal((n, dim))) + np.outer(rng.random(n) > 0.7, rng.random(dim)))
    targets = np.where(features[:, :5].sum(1) > np.median(features[:, :5].sum(1)), 1, -1).astype(np.int8)
    return features, targets


def liblinear_decision(features, targets, cost, mask=None):
    """Fully converged liblinear with the protocol's settings."""
    mask = np.ones(len(targets), bool) if mask is None else mask
    model = LinearSVC(C=cost, class_weight={1: 2.0, -1: 1.0}, loss='squared_hinge', dual=True, tol=1e-12,
                      max_iter=200000, intercept_scaling=1.0, random_state=0)
    return model.fit(features[mask].astype(np.float64), targets[mask]).decision_function(features)


def cv_like_problems(targets, costs=COSTS):
    """A problem on all rows and one with every third row held out, both at every cost."""
    n = len(targets)
    held_out = np.arange(n) % 3 == 0
    return held_out, SVMProblems(rows=np.arange(n)[None], targets=np.stack([targets, targets], 1)[None],
                                 train_mask=np.stack([np.ones(n, bool), ~held_out], 1)[None],
                                 costs=np.tile(costs, (2, 1)), evaluate=np.array([True, False]))


def solve(name, features, problems, eval_features=None, **kwargs):
    solver = build_svm_solver(name, SVMProtocol(costs=COSTS), **kwargs)
    solver.prepare(features, eval_features)
    return solver, solver.solve(problems)


@pytest.mark.parametrize('precision', ['mixed', 'double'])
def test_primal_matches_dual_and_liblinear(precision):
    features, targets = toy_problem()
    eval_features = toy_problem(seed=1)[0]
    held_out, problems = cv_like_problems(targets)
    _, primal = solve('primal', features, problems, eval_features, precision=precision)
    assert primal.info['memory_plan']['mixed'] == (precision == 'mixed')
    _, dual = solve('fast', features, problems, eval_features, method='dual')
    # Both solvers are converged far below liblinear's tolerance: they agree with each other closely.
    np.testing.assert_allclose(primal.decision, dual.decision, atol=1e-6)
    np.testing.assert_allclose(primal.eval_decision, dual.eval_decision, atol=1e-6)
    # liblinear itself, fully converged, on the middle costs (test_solvers checks the dual at all four;
    # at the extremes liblinear needs minutes to converge this tightly).
    for k, cost in list(enumerate(COSTS))[1:3]:
        np.testing.assert_allclose(primal.decision[0, :, 0, k], liblinear_decision(features, targets, cost),
                                   atol=1e-5)
        np.testing.assert_allclose(primal.decision[0, :, 1, k],
                                   liblinear_decision(features, targets, cost, mask=~held_out), atol=1e-5)
    assert primal.info['path'] == 'primal' and primal.info['max_violation'] <= 1e-6


def test_primal_groups_and_streamed_rows_match_dual(tmp_path):
    # Low-shot-like batch: two groups on different row subsets (padded with a repeated row).
    train_x, _, test_x, _ = make_voc_like_features(120, 40, 48, num_classes=2, seed=2)
    score = train_x[:, :3].sum(1)
    targets = np.where(score > np.median(score), 1, -1).astype(np.int8)
    rng = np.random.default_rng(0)
    rows = np.stack([np.sort(rng.choice(120, 50, replace=False)) for _ in range(2)])
    rows[1, -3:] = rows[1, -4]  # padding as in low-shot batches: repeated rows that do not train
    mask = np.ones((2, 50, 2), bool)
    mask[1, -3:] = False
    mask[:, ::4, 1] = False
    problems = SVMProblems(rows=rows, targets=np.repeat(np.stack([targets[r] for r in rows])[..., None], 2, axis=2),
                           train_mask=mask,
                           costs=np.tile([0.01, 1.0], (2, 1)), evaluate=np.array([True, False]))
    protocol = SVMProtocol(costs=(0.01, 1.0))
    dual = build_svm_solver('fast', protocol, method='dual')
    dual.prepare(train_x, test_x)
    expected = dual.solve(problems)
    path = tmp_path / 'train.npy'
    np.save(path, train_x)
    # Streamed from a memory map in chunks of 16 rows, one column at a time: the same models.
    primal = build_svm_solver('primal', protocol, chunk_rows=16, resident=False)
    primal.prepare(np.load(path, mmap_mode='r'), test_x)
    assert not primal._source.resident
    got = primal.solve(problems)
    np.testing.assert_allclose(got.decision, expected.decision, atol=1e-6)
    np.testing.assert_allclose(got.eval_decision, expected.eval_decision, atol=1e-6)


class _Records(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_memory_budget_switches_paths_and_is_logged():
    features, targets = toy_problem()
    _, problems = cv_like_problems(targets)
    probe = build_svm_solver('fast', SVMProtocol(costs=COSTS), memory_budget=1 << 16)
    need = probe.dual_bytes(*features.shape, num_eval=5)
    handler = _Records()
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        small, small_solution = solve('fast', features, problems, features[:5], memory_budget=1 << 16,
                                      max_memory=need - 1)
        large, large_solution = solve('fast', features, problems, features[:5], memory_budget=1 << 16,
                                      max_memory=need)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert small.path == 'primal' and large.path == 'dual'
    assert small_solution.info['path'] == 'primal' and large_solution.info['path'] == 'dual'
    assert any('primal path for 60 x 200' in m for m in handler.messages)
    assert any('dual path for 60 x 200' in m for m in handler.messages)
    np.testing.assert_allclose(small_solution.decision, large_solution.decision, atol=1e-6)


def test_budget_too_small_for_the_primal_fails_before_training():
    features, targets = toy_problem()
    for name, kwargs in (('primal', {}), ('fast', {})):
        solver = build_svm_solver(name, SVMProtocol(costs=COSTS), max_memory='100K', **kwargs)
        with pytest.raises(ValueError, match=r'max_memory=9.54e-05 GiB \(102400 bytes\) is too small for the '
                                             r'primal SVM solver: 60 rows x 200 dims need at least'):
            solver.prepare(features)
        assert solver.history == []


def test_memory_plan_and_sizes():
    assert parse_memory('16G') == 16 * 2**30 and parse_memory('512MiB') == 512 * 2**20 and parse_memory(1000) == 1000
    with pytest.raises(ValueError, match="max_memory 'lots' is not a size"):
        parse_memory('lots')
    # COCO2014 train at 9,216 dims with 80 classes x 3 folds: the rows stay in memory at 16 GiB,
    # and a 1 GiB budget streams them and solves fewer problems at once.
    roomy = plan_memory(82783, 9216, 240, 32, 16 * 2**30)
    assert roomy.resident and roomy.columns == 240 and roomy.bytes <= 16 * 2**30
    tight = plan_memory(82783, 9216, 240, 32, 2**30)
    assert not tight.resident and 1 <= tight.columns < 240 and tight.bytes <= 2**30
    # The float32 split of the rows (3.05 GB here) is planned in only where it leaves the rows in memory.
    split = plan_memory(82783, 9216, 48, 32, 16 * 2**30, mixed=True)
    assert split.mixed and split.resident and split.columns == 48 and split.bytes <= 16 * 2**30
    assert split.bytes - plan_memory(82783, 9216, 48, 32, 16 * 2**30).bytes == 4 * 82783 * 9217
    assert not plan_memory(82783, 9216, 48, 32, 7 * 2**30, mixed=True).mixed  # 6.1 GB of float64 rows


def test_mixed_products_are_the_float64_ones_to_float32_accuracy():
    features, targets = toy_problem()
    solver = build_svm_solver('primal', SVMProtocol(costs=COSTS), chunk_rows=16)
    solver.prepare(features)
    rng = np.random.default_rng(0)
    direction = torch.from_numpy(rng.standard_normal((201, 3)))
    weight = torch.from_numpy(rng.random((60, 3)))
    product, image = solver._mixed.hessian_product(direction, weight)
    expected, expected_image = _hessian_product(solver._source, direction, weight, bias_scale=1.0)
    assert product.dtype == image.dtype == torch.float64
    np.testing.assert_allclose(image, expected_image, rtol=0, atol=1e-5 * expected_image.abs().max())
    np.testing.assert_allclose(product, expected, rtol=0, atol=1e-5 * expected.abs().max())
    assert not torch.equal(product, expected)  # the products did run in float32


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('width', [1, 4, 16, 20])  # both layouts of each precision
def test_chunk_transpose_product_is_the_plain_one(dtype, width):
    generator = torch.Generator().manual_seed(width)
    chunk = torch.rand(300, 50, generator=generator, dtype=dtype)
    columns = torch.rand(300, width, generator=generator, dtype=dtype)
    product = chunk_transpose_product(chunk, columns)
    assert product.shape == (50, width) and product.dtype == dtype
    np.testing.assert_allclose(product, chunk.T @ columns, rtol=1e-12 if dtype == torch.float64 else 1e-5)
