"""HL7 v2 from bedside monitors: ORU^R01 parsing (`oru.py`, pure), the MLLP listener
(`mllp.py`) and what a message becomes (`feed.py`). docs/hl7.md."""
