"""Detect AI-generated faces as anomalies of photographic faces (Zou et al., ICASSP 2025).

    from detector import Detector
    for face in Detector.load().score("photo.jpg"):
        print(face.box, face.log_likelihood, face.verdict)
"""

from .anomaly import AnomalyModel, GMMConfig
from .artifact import load_artifact, save_artifact
from .crop import CropConfig, crop_face, network_input, to_tensor
from .errors import (BackendUnavailableError, DetectorError, ImageReadError, ImageTooLargeError,
                     ModelNotFoundError, NoFaceError)
from .faces import Face, get_face_finder
from .imageio import load_image
from .manipulate import MANIPULATIONS, ManipulationConfig, manipulate
from .model import FaceNet, ModelConfig
from .pipeline import Detector, FaceScore
from .product import ProductModel, fit_density, load_density
from .spectrum import log_spectrum, spectral

__all__ = [
    "AnomalyModel", "GMMConfig", "load_artifact", "save_artifact", "CropConfig", "crop_face", "network_input", "to_tensor",
    "BackendUnavailableError", "DetectorError", "ImageReadError", "ImageTooLargeError", "ModelNotFoundError",
    "NoFaceError", "Face", "get_face_finder", "load_image", "MANIPULATIONS", "ManipulationConfig", "manipulate",
    "FaceNet", "ModelConfig", "Detector", "FaceScore", "ProductModel", "fit_density", "load_density", "log_spectrum",
    "spectral",
]
