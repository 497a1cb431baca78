"""Typed errors: every way a user's input can be refused has its own class and a one-line message."""


class DetectorError(Exception):
    """Base class for every error this library raises on purpose."""


class ImageReadError(DetectorError):
    """The file is not an image Pillow can decode, or it is truncated/corrupt."""


class ImageTooLargeError(ImageReadError):
    """The image has more pixels than we agree to decode (decompression-bomb guard)."""


class NoFaceError(DetectorError):
    """No face was found; raised only where a face is required (e.g. the manipulation preview)."""


class BackendUnavailableError(DetectorError):
    """A landmark backend was requested that cannot run here (package or weights missing)."""


class ModelNotFoundError(DetectorError):
    """No model artifact at the given place (the default model is not installed or a path is wrong)."""
