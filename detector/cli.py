"""`python -m detector score PATH... [--json|--csv] [--far 0.05] [--model DIR]`: one row per face."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from tqdm import tqdm

from .errors import DetectorError, ImageReadError, ModelNotFoundError
from .pipeline import Detector

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
COLUMNS = ["file", "face", "box", "landmarks", "log_likelihood", "threshold", "percentile", "verdict", "certainty",
           "caution", "error"]


def collect(paths: list[str]) -> list[Path]:
    """Files as given (whatever their suffix), folders searched recursively for image suffixes."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            files.append(p)
    return files


def score_files(det: Detector, files: list[Path], far: float | None, progress: bool) -> tuple[list[dict], int]:
    """Rows for every face (or one row per file without faces / unreadable); also the count of unread files."""
    rows, unread = [], 0
    for f in tqdm(files, desc="scoring", unit="img", disable=not progress, file=sys.stderr):
        try:
            faces = det.score(f, far=far)
        except ImageReadError as e:
            unread += 1
            print(f"error: {e}", file=sys.stderr)
            rows.append({"file": str(f), "face": 0, "error": str(e)})
            continue
        if not faces:
            rows.append({"file": str(f), "face": 0, "verdict": "no face found"})
        rows.extend({"file": str(f), **s.to_dict()} for s in faces)
    return rows, unread


def write_csv(rows: list[dict], fp) -> None:
    """Rows as CSV (box as 'x0 y0 x1 y1'), header first."""
    w = csv.DictWriter(fp, fieldnames=COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "box": " ".join(map(str, r.get("box", [])))})


def _print(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        write_csv(rows, sys.stdout)
        return
    for r in rows:
        if r.get("error"):
            print(f"{r['file']}: unreadable: {r['error']}")
        elif r["face"] == 0:
            print(f"{r['file']}: no face found")
        else:
            print(f"{r['file']} face {r['face']}: box={r['box']} landmarks={r['landmarks']} "
                  f"log_likelihood={r['log_likelihood']:.2f} threshold={r['threshold']:.2f} "
                  f"percentile={r['percentile']:.1f} -> {r['verdict']} ({r['certainty']})"
                  + (f"; caution: {r['caution']}" if r.get("caution") else ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m detector", description="Detect AI-generated faces as anomalies.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sc = sub.add_parser("score", help="score every face in images or folders")
    sc.add_argument("paths", nargs="+", help="image files and/or folders (searched recursively)")
    fmt = sc.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_const", const="json", dest="fmt", help="JSON list of rows")
    fmt.add_argument("--csv", action="store_const", const="csv", dest="fmt", help="CSV with a header")
    sc.add_argument("--far", type=float, default=None, help="false-alarm rate setting the threshold (default: the model's, 0.05)")
    sc.add_argument("--model", default=None, help="artifact folder (default: $DETECTOR_MODEL or assets/default)")
    sc.add_argument("--backend", choices=["dlib", "fan"], default=None, help="landmark backend (default: the model's)")
    sc.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    args = ap.parse_args(argv)

    if args.far is not None and not 0.0 < args.far < 1.0:
        ap.error("--far must be between 0 and 1")
    try:
        det = Detector.load(args.model, backend=args.backend, device=args.device)
    except ModelNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    files = collect(args.paths)
    if not files:
        print("error: no image files found in the given paths", file=sys.stderr)
        return 1
    progress = any(Path(p).is_dir() for p in args.paths)
    try:
        rows, unread = score_files(det, files, args.far, progress)
    except DetectorError as e:  # e.g. the fan backend without weights
        print(f"error: {e}", file=sys.stderr)
        return 2
    _print(rows, args.fmt or "text")
    return 1 if unread == len(files) else 0
