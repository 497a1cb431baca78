"""Calibration-set variance of the 5% threshold (no held-out faces). Run at commit 23ed0be, where `calib` was a
disjoint split of 0.2 the mixture never saw: `git checkout 23ed0be -- train/configs/default.toml` first. With the
current config the calib faces are part of the fit, so their scores here would be in-sample.
PYTHONPATH=. python docs/experiments/2026-11-23-crossfit-calibration/calib_variance.py"""
import numpy as np
from train.config import load_config
import train.stages as st
run = load_config("train/configs/default.toml")
sets = st.stage_cache(run)
det, wk = st.load_for_eval(run.run_dir/"artifact")
e = st.embeddings(run, det, wk, sets.split("calib"), "calib")
thr = det.anomaly.threshold()
allz=[];src=[]
for k,v in e.items():
    s = det.anomaly.score(v); allz.append(s); src += [k]*len(s)
    print(f"{k:10s} n={len(s):4d} mean={s.mean():7.1f} q05={np.quantile(s,.05):7.1f} q50={np.median(s):7.1f} below={100*(s<thr).mean():5.1f}%")
s=np.concatenate(allz); src=np.array(src)
rng=np.random.default_rng(0); fars=[]
for _ in range(2000):
    p=rng.permutation(len(s)); a,b=p[:len(s)//2],p[len(s)//2:]
    fars.append((s[b]<np.quantile(s[a],.05)).mean())
fars=np.array(fars)*100
print("half->half FAR: mean %.2f sd %.2f  p(<3)=%.3f p(>7)=%.3f"%(fars.mean(),fars.std(),(fars<3).mean(),(fars>7).mean()))
# what a full-size calib -> full-size heldout disagreement would be: bootstrap
fars=[]
for _ in range(2000):
    a=rng.choice(len(s),len(s)); b=rng.choice(len(s),len(s))
    fars.append((s[b]<np.quantile(s[a],.05)).mean())
fars=np.array(fars)*100
print("boot n->n FAR: mean %.2f sd %.2f p(<3)=%.3f"%(fars.mean(),fars.std(),(fars<3).mean()))
