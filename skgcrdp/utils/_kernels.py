"""Numeric kernels of search and scoring: similarity matrices and overflow-safe rows.

They sit below both the search backends and the metrics, so neither has to
import the other.
"""

import numpy as np

__all__ = ["SIMILARITIES", "normalize_rows", "overflow_safe", "similarity_matrix"]

#: How closeness of two embeddings is measured (higher is closer).
SIMILARITIES = ("cosine", "dot", "euclidean")

# Largest absolute value whose squares summed over a few thousand dimensions
# stay finite: in float32 (max 3.4e38) and in float64 (max 1.8e308).
_SAFE_MAGNITUDE = {np.dtype(np.float32): 1e17, np.dtype(np.float64): 1e150}


def overflow_safe(Z):
    """``Z``, in float64 if its products would overflow float32; an error if even float64 would.

    Dot products and squared distances of embeddings with huge values
    overflow to infinity, and ``inf - inf`` ranks as NaN: a silent wrong
    answer. Cosine similarity needs no such care (rows are rescaled first).
    """
    Z = np.asarray(Z)
    if Z.size == 0 or Z.dtype not in _SAFE_MAGNITUDE:
        return Z
    largest = float(np.abs(Z).max())
    if largest <= _SAFE_MAGNITUDE[Z.dtype]:
        return Z
    if largest <= _SAFE_MAGNITUDE[np.dtype(np.float64)]:
        return Z.astype(np.float64)
    raise ValueError(
        f"Embeddings hold values up to {largest:.3g}: their dot products and squared "
        "distances overflow even in float64. Rescale them, or use cosine similarity."
    )


def similarity_matrix(Q, G, similarity="cosine", out=None):
    """Similarity of each row of ``Q`` to each row of ``G`` (higher is closer).

    ``"cosine"``: cosine similarity (zero rows score 0); ``"dot"``: dot
    product; ``"euclidean"``: minus the squared Euclidean distance. Values
    large enough to overflow float32 products are computed in float64.
    ``out``, an array of shape ``(len(Q), len(G))``, receives the result
    instead of a new one (the tiled search reuses one buffer).
    """
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}.")
    if similarity == "cosine":
        Q, G = normalize_rows(Q), normalize_rows(G)
    else:
        Q, G = overflow_safe(Q), overflow_safe(G)
    S = np.matmul(Q, G.T, out=out)
    if similarity == "euclidean":
        S *= 2.0
        S -= (Q * Q).sum(axis=1)[:, None]
        S -= (G * G).sum(axis=1)[None, :]
    return S


def normalize_rows(Z):
    """Scale rows to unit L2 norm; all-zero rows stay zero.

    Each row is first divided by its largest absolute value, so that the
    norm of a row of huge values (say 1e30 in float32) does not overflow to
    infinity and turn the row into zeros.
    """
    Z = np.asarray(Z)
    largest = np.abs(Z).max(axis=1, keepdims=True) if Z.size else np.ones((Z.shape[0], 1))
    Z = Z / np.where(largest > 0, largest, 1.0).astype(Z.dtype)
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.where(norms > 0, norms, 1.0).astype(Z.dtype)
