"""Exact line searches along a segment for the squared-hinge SVM objective, shared by the dual (:mod:`.newton`) and
the primal (:mod:`.primal`) Newton solvers."""
import torch


def line_search(coef, decision, direction, image, targets, cost, max_step=1.0, iters=50):
    """Exact minimiser over ``t ∈ [0, max_step]`` of the objective at ``coef + t·direction``.

    The objective restricted to the segment is a convex piecewise quadratic in ``t``; its slope is
    piecewise linear, so safeguarded Newton steps on the slope land on the root after a few pieces.
    A slope within rounding error of zero counts as zero, and ``t = 1`` is tried first: near the
    optimum the Newton step is tiny and its slope is pure rounding noise, which must not stop it.

    Args:
        coef, decision: (b, n, w) current ``β`` and ``K̃β``.
        direction, image: (b, n, w) the step and ``K̃ @ step``. They are passed rather than an end
            point because ``(β + d) - β`` loses the digits of a tiny step ``d``.
        targets, cost: (b, n, w) ``y`` and per-sample cost (0 = not trained).
        max_step: upper bound of ``t``.
        iters: Newton steps on the slope.

    Returns:
        torch.Tensor: (b, 1, w) step sizes.
    """
    curvature = (direction * image).sum(1)
    slope0 = (direction * decision).sum(1)
    # Rounding scale of the slope: the same sums taken over absolute values.
    scale0 = (direction * decision).abs().sum(1) + (direction * image).abs().sum(1)
    return segment_search(slope0, curvature, scale0, 1 - targets * decision, targets * image, cost,
                          max_step, iters)[:, None]


def segment_search(slope0: torch.Tensor, curvature: torch.Tensor, scale0: torch.Tensor,
                   margin: torch.Tensor, speed: torch.Tensor, cost: torch.Tensor,
                   max_step: float = 1.0, iters: int = 50) -> torch.Tensor:
    """Exact minimiser over ``t ∈ [0, max_step]`` of ``q(t) + Σ_i c_i max(0, margin_i - t·speed_i)²``.

    ``q`` is the regulariser along the segment, given by its slope at 0 and its curvature, so the
    same search serves the dual (``q = ½(β + tδ)ᵀK̃(β + tδ)``) and the primal
    (``q = ½‖w + td‖²``) parametrisations; see :func:`line_search`.

    Args:
        slope0, curvature, scale0: (b, w) ``q'(0)``, ``q''`` and the rounding scale of ``q'(0)``.
        margin, speed, cost: (b, n, w) ``1 - y_i f_i``, ``y_i·(change of f_i per unit t)`` and ``c_i``.
        max_step, iters: upper bound of ``t`` and Newton steps on the slope.

    Returns:
        torch.Tensor: (b, w) step sizes.
    """

    # Products that do not depend on t, formed once (the same values, in the same order, as inline).
    weighted = cost * speed
    weighted_size = weighted.abs()
    weighted_speed = weighted * speed

    def slope_at(t, with_hess=True):
        inside = (margin - t[:, None] * speed).clamp_min(0)
        slope = slope0 + t * curvature - 2 * (weighted * inside).sum(1)
        noise = 1e-10 * (scale0 * (1 + t) + 2 * (weighted_size * inside).sum(1))
        hess = curvature + 2 * (weighted_speed * (inside > 0)).sum(1) if with_hess else None
        return slope, hess, noise

    # A step whose slope is rounding noise already at t = 0 changes the objective by less than its
    # last digit; the Newton step is then taken whole (it still fixes tiny KKT violations).
    slope, _, noise = slope_at(torch.zeros_like(curvature), with_hess=False)
    flat = slope.abs() <= noise
    # A convex function that rises at t = 0 is smallest there. Bisecting towards 0 would take all
    # ``iters`` steps (an inexact Newton direction near the optimum can be such an ascent direction).
    rising = slope > noise
    t = torch.full_like(curvature, min(1.0, max_step)).masked_fill_(rising, 0)
    low = torch.zeros_like(t)
    high = torch.full_like(t, max_step)
    finished = flat | rising
    for _ in range(iters):
        if finished.all():
            break
        slope, hess, noise = slope_at(t)
        # Done when the slope vanishes, the minimiser lies beyond max_step, or the bracket closed.
        finished = (finished | (slope.abs() <= noise) | ((t >= max_step) & (slope < 0))
                    | (high - low <= 1e-15 * (1 + t)))
        low = torch.where(slope < 0, t, low)
        high = torch.where(slope > 0, t, high)
        proposal = torch.where(hess > 0, t - slope / hess.clamp_min(1e-300), high)
        bisect = (low + high) / 2
        proposal = torch.where((proposal <= low) | (proposal >= high), bisect, proposal)
        t = torch.where(finished, t, proposal)
    return t.clamp(0, max_step)
