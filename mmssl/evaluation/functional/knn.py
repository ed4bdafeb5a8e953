from typing import Dict, Sequence

import torch

from mmssl.constants import KNN_KS, KNN_TEMPERATURE


def knn_classify(train_features: torch.Tensor,
                 train_labels: torch.Tensor,
                 test_features: torch.Tensor,
                 test_labels: torch.Tensor,
                 num_classes: int,
                 ks: Sequence[int] = KNN_KS,
                 temperature: float = KNN_TEMPERATURE,
                 chunk_size: int = 256) -> Dict[str, float]:
    """Weighted k-nearest-neighbour classification (Wu et al. 2018) of L2-normalised features.

    Each test sample's k most cosine-similar training samples vote for their class with weight exp(sim / T);
    the class scores are the summed weights. Test samples are processed in chunks so that the similarity
    matrix never exceeds ``chunk_size`` × N.

    Args:
        train_features: (N, D) L2-normalised; train_labels: (N,) class indices.
        test_features: (M, D) L2-normalised; test_labels: (M,) class indices.
        num_classes: number of classes.
        ks: the neighbourhood sizes to evaluate (each clipped to N).
        temperature: T of the vote weights.

    Returns:
        ``{'k{k}/top1': %, 'k{k}/top5': %}`` for every k (top-5 clipped to the number of classes).
    """
    if train_features.shape[0] != train_labels.shape[0] or test_features.shape[0] != test_labels.shape[0]:
        raise ValueError('features and labels must have the same number of rows')
    max_k = min(max(ks), train_features.shape[0])
    top5 = min(5, num_classes)
    hits = {k: torch.zeros(2) for k in ks}
    for start in range(0, test_features.shape[0], chunk_size):
        similarity = test_features[start:start + chunk_size] @ train_features.T
        labels = test_labels[start:start + chunk_size]
        sims, neighbours = similarity.topk(max_k, dim=1)
        neighbour_labels = train_labels[neighbours]
        weights = (sims / temperature).exp()
        for k in ks:
            k_eff = min(k, max_k)
            scores = torch.zeros(len(labels), num_classes, dtype=weights.dtype)
            scores.scatter_add_(1, neighbour_labels[:, :k_eff], weights[:, :k_eff])
            ranked = scores.topk(top5, dim=1).indices
            hits[k][0] += (ranked[:, 0] == labels).sum()
            hits[k][1] += (ranked == labels[:, None]).any(dim=1).sum()
    total = test_features.shape[0]
    results = {}
    for k in ks:
        results[f'k{k}/top1'] = 100.0 * hits[k][0].item() / total
        results[f'k{k}/top5'] = 100.0 * hits[k][1].item() / total
    return results
