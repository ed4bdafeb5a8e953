import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.model import BaseModule

from mmssl.registry import MODELS


@MODELS.register_module()
class NPIDHead(BaseModule):
    """Instance-discrimination loss against a memory bank: 1 positive + K negatives per sample (Wu et al. 2018).

    Inputs of :meth:`loss`: embeddings (N, D), their own bank entries (N, D) and K negative bank entries per
    sample (N, K, D), all L2-normalised; similarities are divided by ``temperature``.

    - ``loss_type='infonce'`` (the OpenMMLab toolbox): softmax cross-entropy over the K + 1 logits with the
      positive as the target (default K = 65,536).
    - ``loss_type='nce'`` (the paper): noise-contrastive estimation with uniform noise P_n = 1/bank_size,
      P(i|v) = exp(v_i·f / T) / Z, h = P / (P + K·P_n), loss = −log h(positive) − Σ log(1 − h(negative))
      (paper K = 4,096). Z is estimated once, on the first batch, as bank_size × the mean of exp(logits)
      (averaged over processes), then kept fixed; it is a buffer, so checkpoints restore it.
    """

    def __init__(self, loss_type: str = 'infonce', temperature: float = 0.07, num_negatives: int = 65536):
        super().__init__()
        if loss_type not in ('infonce', 'nce'):
            raise ValueError(f"NPIDHead loss_type must be 'infonce' or 'nce', got {loss_type!r}")
        self.loss_type = loss_type
        self.temperature = temperature
        self.num_negatives = num_negatives
        # The paper's NCE keeps its normaliser Z in the checkpoint; the toolbox's InfoNCE has none, so a toolbox
        # checkpoint (backbone, neck, memory_bank.feature_bank) matches an InfoNCE model key for key.
        self.register_buffer('nce_normalizer', torch.tensor(0.0), persistent=loss_type == 'nce')

    def _logits(self, embeddings, positives, negatives):
        pos = (embeddings * positives).sum(dim=1, keepdim=True)
        neg = torch.einsum('nd,nkd->nk', embeddings, negatives)
        return torch.cat([pos, neg], dim=1) / self.temperature

    def loss(self, embeddings: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor,
             bank_size: int) -> dict:
        logits = self._logits(embeddings, positives, negatives)
        if self.loss_type == 'infonce':
            targets = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
            return dict(loss=F.cross_entropy(logits, targets))
        probs = torch.exp(logits)
        if self.nce_normalizer.item() == 0:
            normalizer = probs.detach().mean() * bank_size
            all_reduce(normalizer, op='mean')
            self.nce_normalizer.copy_(normalizer)
        probs = probs / self.nce_normalizer
        noise = negatives.shape[1] / bank_size  # K · P_n
        log_h_pos = torch.log(probs[:, 0] / (probs[:, 0] + noise))
        log_one_minus_h_neg = torch.log(noise / (probs[:, 1:] + noise)).sum(dim=1)
        return dict(loss=-(log_h_pos + log_one_minus_h_neg).mean())
