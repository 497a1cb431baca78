"""python -m train {cache,pretext,import,gmm,evaluate,ksweep,ablation,seeds,baseline,card,all} --config CONFIG.toml

Multi-GPU: torchrun --nproc_per_node N -m train pretext --config CONFIG.toml
"""

from __future__ import annotations

import argparse
import sys
import time

from .config import load_config, save_json

STAGES = {
    "cache": "detect faces + landmarks once, store crops (the detector's crop) and EXIF tags",
    "pretext": "self-supervised training: EXIF ranking + manipulation classification",
    "import": "use the authors' released checkpoint ([authors] checkpoint) as the pretext weights",
    "gmm": "embed photographic faces, fit the GMM, set the threshold, write the artifact",
    "evaluate": "Acc/AP/AUC per generator with matched processing, robustness, t-SNE/UMAP",
    "ksweep": "GMM K sweep on the same embeddings",
    "ablation": "ranking only / manipulation only / both",
    "seeds": "the same recipe with the network's other seeds ([eval] seeds): the spread of the protocol's numbers",
    "baseline": "supervised real-vs-one-generator baseline, tested on the other generators",
    "card": "write runs/<name>/MODEL_CARD.md from the run's result files",
    "all": "the stages listed in the config's `stages` (default cache, pretext, gmm, evaluate)",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train", description="Rebuild every model artifact.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="stages:\n" + "\n".join(f"  {k:<9} {v}" for k, v in STAGES.items()))
    ap.add_argument("stage", choices=list(STAGES))
    ap.add_argument("--config", required=True, help="TOML run config (see train/configs/)")
    ap.add_argument("--resume", action="store_true", help="continue pretext training from its checkpoint")
    args = ap.parse_args(argv)
    run = load_config(args.config)
    run.run_dir.mkdir(parents=True, exist_ok=True)
    save_json(run.to_dict(), run.run_dir / "run_config.json")

    from . import protocol
    from . import stages as st
    from .baseline import stage_baseline

    todo = list(run.stages) if args.stage == "all" else [args.stage]
    sets = None
    for stage in todo:
        t = time.perf_counter()
        print(f"== {stage}", file=sys.stderr)
        sets = sets or st.stage_cache(run)
        if stage == "pretext":
            st.stage_pretext(run, sets, resume=args.resume or args.stage == "all")
        elif stage == "import":
            from .authors import stage_import

            print(stage_import(run))
        elif stage == "gmm":
            print(st.stage_gmm(run, sets))
        elif stage == "evaluate":
            print(protocol.summary(st.stage_evaluate(run, sets)["results"]["none"]))
        elif stage == "ksweep":
            st.stage_ksweep(run, sets)
        elif stage == "ablation":
            st.stage_ablation(run, sets)
        elif stage == "seeds":
            st.stage_seeds(run, sets)
        elif stage == "baseline":
            stage_baseline(run, sets)
        elif stage == "card":
            from .card import write_card

            print(write_card(run))
        print(f"== {stage} done in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
