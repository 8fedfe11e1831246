"""FHIR R4 resources as plain dicts, built by pure functions (docs/fhir.md).

- `codes.py`: code systems and named codes, each carrying its system URL.
- `references.py`: `reference(resource_type, uuid)`.
- `questionnaires.py`: Questionnaire, QuestionnaireResponse and the score Observation
  for the instruments in `neuroclinic.measures.instruments`.

Pure modules: standard library and the pure `neuroclinic.measures` package only, so
they run and are tested without Django. Output is checked against the R4B models of
`fhir.resources` and golden files in tests; see docs/fhir.md for what that covers.
"""
