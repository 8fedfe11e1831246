# Uploads, signatures and consent PDFs go to a throwaway directory, as in intake's tests.
from neuroclinic.intake.tests.conftest import _media_in_tmp

__all__ = ["_media_in_tmp"]
