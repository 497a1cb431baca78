"""Does cross-fitting the calibration set give a threshold that holds on unseen points? A 40-d two-component
mixture, 300 fit + 200 calibration points, 4,000 unseen; rate below the 5% threshold, 6 seeds.
PYTHONPATH=. python docs/experiments/2026-11-23-crossfit-calibration/toy_crossfit.py"""
import numpy as np
from detector import AnomalyModel, GMMConfig
d=40
res={}
for seed in range(6):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d,d))/np.sqrt(d)
    def draw(n): return rng.normal(size=(n,d)) @ A + np.where(rng.random((n,1))<.5, 2., -2.)
    x, cal, fresh = draw(300), draw(200), draw(4000)
    cfg = GMMConfig(n_components=2, reg_covar=1e-6, dtype="float64")
    m = AnomalyModel.fit(x, cfg, calibration=cal)
    res.setdefault("disjoint",[]).append((m.score(fresh)<m.threshold()).mean())
    for k in (5,10,20):
        cf = AnomalyModel.fit(x, cfg, calibration=cal, calibration_folds=np.arange(200)%k)
        res.setdefault(f"cf{k}",[]).append((cf.score(fresh)<cf.threshold()).mean())
for k,v in res.items(): print(k, np.round(100*np.array(v),1), round(100*np.mean(v),2))
