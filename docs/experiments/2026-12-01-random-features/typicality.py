"""Are StyleGAN3 faces *too typical* (above the real faces' 95th percentile of log-likelihood), which a two-sided
test could catch? Shares of each generator's faces below the 5th and above the 95th percentile of held-out real
faces, for the untrained seed-0 network with the run's mixture.

    python docs/experiments/2026-12-01-random-features/typicality.py
"""

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import variants as V  # noqa: E402

from train import protocol  # noqa: E402
from train.stages import stage_cache  # noqa: E402

sets = stage_cache(V.RUN)
feats = V.variant("plain:0", sets)
cfg = replace(V.RUN.gmm, calib_by="file")  # as when this ran; the percentiles below do not use the threshold
m = protocol.density_data(V.RUN, sets, feats, cfg.calib_folds).fit_model(cfg)
rs = m.score(np.concatenate(list(feats(sets.split("heldout", evaluation=True), "none").values())))
lo, hi = np.quantile(rs, [0.05, 0.95])
for g, z in feats(sets.fake, "none").items():
    s = m.score(z)
    print(f"{g:20s} below p5 {100 * np.mean(s < lo):5.1f}%  above p95 {100 * np.mean(s > hi):5.1f}%  "
          f"median at real percentile {100 * np.mean(rs < np.median(s)):5.1f}")
