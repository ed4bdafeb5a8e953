import numpy as np
import pytest
from sklearn.svm import LinearSVC

from mmssl.evaluation.svm import SVMProblems, SVMProtocol, build_svm_solver, l2_normalize
from mmssl.evaluation.svm._synthetic import make_voc_like_features
from mmssl.evaluation.svm.solvers.reference import _chunked_decision


def toy_problem(seed=0, n=60, dim=200):
    # Fewer samples than dimensions, as with VOC07 (5,011 x 8,192+): liblinear converges at every cost.
    rng = np.random.default_rng(seed)
    features = l2_normalize(np.abs(rng.standard_normal((n, dim))) + np.outer(rng.random(n) > 0.7, rng.random(dim)))
    targets = np.where(features[:, :5].sum(1) > np.median(features[:, :5].sum(1)), 1, -1).astype(np.int8)
    return features, targets


def liblinear_decision(features, targets, cost, class_weight=None, mask=None, scored=None, tol=1e-12):
    mask = np.ones(len(targets), bool) if mask is None else mask
    model = LinearSVC(C=cost, class_weight=class_weight or {1: 2.0, -1: 1.0}, loss='squared_hinge', dual=True,
                      tol=tol, max_iter=200000, intercept_scaling=1.0, random_state=0)
    model.fit(features[mask].astype(np.float64), targets[mask])
    return model.decision_function(features if scored is None else scored)


# Rank 4 makes the 60 rows enough for the float32 residual products of 'mixed' (groups of >= 8 x rank rows).
@pytest.mark.parametrize('precision', ['double', 'mixed'])
@pytest.mark.parametrize('cost', [2**-10, 0.0625, 1.0, 100.0])
def test_fast_solver_matches_liblinear_with_class_weights(cost, precision):
    features, targets = toy_problem()
    solver = build_svm_solver('fast', SVMProtocol(costs=(cost, )), precision=precision, precond_rank=4)
    solver.prepare(features)
    assert (solver._residual is not None) == (precision == 'mixed')
    held_out = np.arange(len(targets)) % 3 == 0
    problems = SVMProblems(rows=np.arange(len(targets))[None], targets=np.stack([targets, targets], 1)[None],
                           train_mask=np.stack([np.ones_like(held_out), ~held_out], 1)[None],
                           costs=[[cost], [cost]])
    decision = solver.solve(problems).decision[0, :, :, 0]
    np.testing.assert_allclose(decision[:, 0], liblinear_decision(features, targets, cost), atol=1e-5)
    # A problem on a subset of rows still scores the held-out rows, as a fold model would.
    np.testing.assert_allclose(decision[:, 1], liblinear_decision(features, targets, cost, mask=~held_out),
                               atol=1e-5)
    # The class weights matter: the unweighted SVM is a different model.
    unweighted = liblinear_decision(features, targets, cost, class_weight={1: 1.0, -1: 1.0})
    assert np.abs(unweighted - decision[:, 0]).max() > 1e-3


def test_both_solvers_score_evaluation_rows_alike():
    train_x, train_y, test_x, _ = make_voc_like_features(90, 30, 64, num_classes=3, min_positives=6, seed=1)
    targets = np.where(train_y == 1, 1, -1).astype(np.int8)
    protocol = SVMProtocol(costs=(0.01, 1.0))
    problems = SVMProblems(rows=np.arange(90)[None], targets=targets[None], train_mask=np.ones((1, 90, 3), bool),
                           costs=np.tile([0.01, 1.0], (3, 1)), evaluate=np.ones(3, bool))
    solutions = []
    for name, kwargs in (('fast', {}), ('sklearn', dict(n_jobs=1))):
        solver = build_svm_solver(name, protocol, **kwargs)
        solver.prepare(train_x, test_x)
        solutions.append(solver.solve(problems))
    # liblinear stops at tol 1e-4 of the protocol, so agreement is to about that precision.
    np.testing.assert_allclose(solutions[0].eval_decision, solutions[1].eval_decision, atol=2e-3)
    np.testing.assert_allclose(solutions[0].decision, solutions[1].decision, atol=2e-3)


def group_problems(group_rows, costs=(0.1, 1.0), score_later=False):
    """Two groups of ``group_rows`` of 60 toy rows, a problem on all of a group and one on a fold, both evaluated
    on 30 more rows; the second group is padded by repeating a row with no cost, as the low-shot batches are."""
    features, targets = toy_problem(n=60)
    rng = np.random.default_rng(3)
    scored = l2_normalize(np.abs(rng.standard_normal((30, features.shape[1]))))
    picks = [np.sort(np.concatenate([rng.choice(np.flatnonzero(targets == t), group_rows // 2, replace=False)
                                     for t in (1, -1)])) for _ in range(2)]
    picks[1][-3:] = picks[1][-4]
    valid = np.ones((2, group_rows), bool)
    valid[1, -3:] = False
    fold = np.arange(group_rows) % 3 != 0
    train_mask = np.stack([valid, valid & fold], axis=2)
    problems = SVMProblems(rows=np.stack(picks), targets=np.repeat(targets[np.stack(picks)][..., None], 2, axis=2),
                           train_mask=train_mask, costs=np.tile(costs, (2, 1)), evaluate=np.ones(2, bool),
                           score_later=score_later)
    return features, targets, scored, picks, problems


@pytest.mark.filterwarnings('error::sklearn.exceptions.ConvergenceWarning')  # the reference must be exact
# Groups scored by gathering their rows, and densely; the groups of 40 rows use the residual products.
@pytest.mark.parametrize('group_rows', [12, 40])
def test_groups_of_rows_are_scored_like_liblinear_through_weights_and_through_the_gram_matrix(group_rows):
    costs = (0.1, 1.0)
    features, targets, scored, picks, problems = group_problems(group_rows, costs)
    train_mask = problems.train_mask
    solver = build_svm_solver('fast', SVMProtocol(costs=costs), precond_rank=5)
    solver.prepare(features, scored)
    expected = np.array([[[liblinear_decision(features[rows], targets[rows], cost, mask=train_mask[g, :, j],
                                              scored=scored, tol=1e-10) for cost in costs] for j in range(2)]
                         for g, rows in enumerate(picks)])
    through_gram = []  # per solve: scored through the evaluation Gram matrix (formed before scoring)
    while not through_gram or not through_gram[-1]:
        np.testing.assert_allclose(solver.solve(problems).eval_decision, expected, atol=1e-5)
        through_gram.append(solver._eval_gram is not None)
        assert len(through_gram) <= 10, 'the models scored never paid for the evaluation Gram matrix'
    assert not through_gram[0]  # a few models are scored through their weights
    planned = build_svm_solver('fast', SVMProtocol(costs=costs))
    planned.prepare(features, scored, num_scored=1000)
    np.testing.assert_allclose(planned.solve(problems).eval_decision, expected, atol=1e-5)
    assert planned._eval_gram is not None  # told that many models follow, it forms the Gram matrix at once


# Scored through the weights or the evaluation Gram matrix, by gathering a group's rows of it or densely.
@pytest.mark.parametrize('num_scored', [None, 1000])
@pytest.mark.parametrize('group_rows', [12, 40])
@pytest.mark.parametrize('name', ['fast', 'sklearn', 'primal'])
def test_models_scored_later_at_chosen_costs_score_like_every_cost_scored_at_once(name, group_rows, num_scored):
    costs = (0.1, 1.0, 10.0)
    # 'primal': the fast solver on its primal path, which scores every cost at once like the reference.
    options = dict(fast=dict(precond_rank=5), sklearn=dict(n_jobs=1), primal=dict(method='primal'))[name]
    solutions = []
    for score_later in (False, True):
        features, _, scored, _, problems = group_problems(group_rows, costs, score_later=score_later)
        solver = build_svm_solver('sklearn' if name == 'sklearn' else 'fast', SVMProtocol(costs=costs), **options)
        solver.prepare(features, scored, num_scored=num_scored)
        solutions.append((solver, solver.solve(problems)))
    (_, at_once), (solver, later) = solutions
    if name == 'fast':  # the fast solver keeps the models instead of scoring them
        assert later.eval_decision is None and later.models is not None
        np.testing.assert_array_equal(later.decision, at_once.decision)
    else:  # these score every cost anyway (and liblinear's random coordinate order differs per fit)
        assert later.models is None
        at_once = later
    chosen = np.array([[2, 0], [1, 2]])  # (group, evaluated problem) -> cost index
    expected = np.take_along_axis(at_once.eval_decision, chosen[:, :, None, None], axis=2)[:, :, 0]
    np.testing.assert_allclose(solver.score(later, chosen), expected, rtol=0, atol=1e-9)
    if name == 'fast':
        assert (solver._eval_gram is not None) == (num_scored == 1000)
    with pytest.raises(RuntimeError, match='neither scores nor models'):
        solver.score(type(later)(later.decision), chosen)


def test_mixed_precision_falls_back_to_double_when_its_copy_does_not_fit(caplog):
    features, targets = toy_problem()
    probe = build_svm_solver('fast', SVMProtocol(costs=(1.0, )), precond_rank=4)
    double, mixed = (probe.dual_bytes(*features.shape, mixed=m) for m in (False, True))
    assert mixed == double + 4 * len(features)**2  # the float32 residual
    problems = SVMProblems(rows=np.arange(len(targets))[None], targets=targets[None, :, None],
                           train_mask=np.ones((1, len(targets), 1), bool), costs=[[1.0]])
    decisions = []
    for budget in (double, mixed):
        solver = build_svm_solver('fast', SVMProtocol(costs=(1.0, )), precond_rank=4, max_memory=budget)
        solver.prepare(features)
        assert solver.path == 'dual' and (solver._residual is not None) == (budget == mixed)
        decisions.append(solver.solve(problems).decision)
    np.testing.assert_allclose(decisions[0], decisions[1], atol=1e-6)


def test_problem_batches_are_checked():
    with pytest.raises(ValueError, match='at least one positive and one negative'):
        SVMProblems(rows=np.arange(3)[None], targets=np.ones((1, 3, 1)), train_mask=np.ones((1, 3, 1)),
                    costs=[[1.0]])
    with pytest.raises(ValueError, match='unknown SVM solver'):
        build_svm_solver('liblinear', SVMProtocol())


def test_reference_scores_evaluation_rows_in_chunks_like_one_call():
    features, targets = toy_problem()
    model = LinearSVC(C=1.0, dual=True).fit(features.astype(np.float64), targets)
    np.testing.assert_allclose(_chunked_decision(model, features, chunk_rows=7),
                               model.decision_function(features.astype(np.float64)), rtol=1e-12)


def test_the_reference_solver_is_seeded_by_the_protocol():
    """liblinear's dual coordinate descent visits samples in a random order: unseeded, each run stops elsewhere."""
    train_x, train_y, test_x, _ = make_voc_like_features(90, 30, 64, num_classes=3, min_positives=6, seed=1)
    targets = np.where(train_y == 1, 1, -1).astype(np.int8)
    problems = SVMProblems(rows=np.arange(90)[None], targets=targets[None], train_mask=np.ones((1, 90, 3), bool),
                           costs=np.tile([0.01, 1.0], (3, 1)), evaluate=np.ones(3, bool))

    def decisions(random_state, global_seed):
        np.random.seed(global_seed)  # what an unseeded LinearSVC draws its seed from
        solver = build_svm_solver('sklearn', SVMProtocol(costs=(0.01, 1.0), random_state=random_state), n_jobs=1)
        solver.prepare(train_x, test_x)
        solution = solver.solve(problems)
        return np.concatenate([solution.decision.ravel(), solution.eval_decision.ravel()])

    first = decisions(0, global_seed=1)
    np.testing.assert_array_equal(first, decisions(0, global_seed=2))  # identical, bit for bit
    assert not np.array_equal(first, decisions(7, global_seed=1))  # the seed is the one liblinear used
    assert SVMProtocol().random_state == 0 and SVMProtocol(random_state=3).to_dict()['random_state'] == 3
    with pytest.raises(ValueError, match="random_state must be an integer >= 0, got 'x'"):
        SVMProtocol(random_state='x')
