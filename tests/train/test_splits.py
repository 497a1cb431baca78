import numpy as np
import pytest

from train.cache import FaceSet, file_folds, split_mask


def _faces(n_files: int, faces_per_file: int = 2) -> FaceSet:
    file_idx = np.repeat(np.arange(n_files), faces_per_file)
    n = len(file_idx)
    return FaceSet("t", "t-key", np.zeros((n, 1, 1, 3), np.uint8), np.zeros((n, 68, 2), np.float32), file_idx,
                   np.zeros((n, 4)), [f"img_{i:04d}.jpg" for i in range(n_files)], {})


def test_faces_of_one_photo_share_their_split_and_fold():
    fs = _faces(500)
    masks = split_mask(fs, {"pretext": 0.5, "calib": 0.3, "heldout": 0.2})
    which = np.argmax(np.stack(list(masks.values())), axis=0)
    folds = file_folds(fs, 5)
    for per_face in (which, folds):
        assert np.all(per_face[0::2] == per_face[1::2])
    assert np.array_equal(folds, file_folds(fs, 5))  # deterministic


def test_folds_are_balanced_and_independent_of_the_split():
    fs = _faces(2000, 1)
    calib = split_mask(fs, {"pretext": 0.5, "calib": 0.3, "heldout": 0.2})["calib"]
    counts = np.bincount(file_folds(fs, 5)[calib], minlength=5)
    assert counts.min() > 0.7 * calib.sum() / 5  # every fold holds calibration faces, about a fifth each
    assert np.all(file_folds(fs, 1) == 0)


def test_a_split_cannot_both_fit_the_gmm_and_set_its_threshold(tmp_path):
    from train.config import DataConfig, RunConfig
    from train.stages import stage_gmm

    run = RunConfig(data=DataConfig(gmm_from=("pretext", "gmm"), calibrate_on=("gmm",)))
    with pytest.raises(ValueError, match="threshold"):
        stage_gmm(run, None, tmp_path / "w.safetensors", tmp_path / "artifact")
