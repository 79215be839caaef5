"""Exceptions raised by gradkit. Each subclasses the builtin a user would expect."""


class ShapeError(ValueError):
    """Shapes that an op cannot combine (names the op and the shapes)."""


class DeviceError(ValueError):
    """Tensors on different devices met in one op, or an unavailable device was asked for."""


class DTypeError(TypeError):
    """A dtype an op cannot take (e.g. gradients of integer tensors)."""


class AutogradError(RuntimeError):
    """Misuse of backward(): nothing to differentiate, or a gradient of the wrong shape."""


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree in `gradcheck`."""
