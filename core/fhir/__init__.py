from .bundle import *  # noqa
from .bundle import _id, _instant, _num, PERFORM_FUNCTION  # noqa
