"""Detection metrics: the tone statistics of a crop and the AUC against tone-matched real faces."""

import numpy as np

from train.metrics import detection_metrics, tone_matched_auc, tone_stats


def test_tone_stats_read_brightness_and_the_contrast_of_the_central_half():
    flat = np.full((8, 8, 3), 51, np.uint8)  # 51/255 = 0.2 in every channel
    ring = flat.copy()
    ring[0, 0] = 255  # a bright corner: the mean moves, the central half does not
    centre = flat.copy()
    centre[2:6, 2:6] = np.array([[0, 255] * 2, [255, 0] * 2] * 2)[..., None]  # a checkerboard inside the middle
    t = tone_stats([flat, ring, centre])
    assert t.shape == (3, 2)
    np.testing.assert_allclose(t[0], [0.2, 0.0], atol=1e-9)
    assert t[1, 0] > 0.2 and t[1, 1] == 0.0
    np.testing.assert_allclose(t[2, 1], 0.5, atol=1e-9)  # half black, half white: std 0.5 on a 0-1 scale
    assert tone_stats([]).shape == (0, 2)


def test_tone_matched_auc_removes_what_tone_explains_and_keeps_what_it_does_not():
    rng = np.random.default_rng(0)
    real_tone = rng.uniform(0, 1, (2000, 2))
    fake_tone = rng.uniform(0.4, 1.0, (300, 2))  # generated faces: brighter and more contrasty on average

    def by_tone(t):  # a score that only follows the look: lower log-likelihood for brighter, contrastier faces
        return -t.sum(1) + rng.normal(0, 0.05, len(t))

    plain = detection_metrics(by_tone(real_tone), by_tone(fake_tone), 0.0)["auc"]
    real_s = by_tone(real_tone)
    assert plain > 80
    assert abs(tone_matched_auc(real_s, real_tone, by_tone(fake_tone), fake_tone) - 50) < 8
    # a score that sees something besides tone keeps its AUC after matching
    assert tone_matched_auc(real_s, real_tone, by_tone(fake_tone) - 1.0, fake_tone) > 90
