from django.apps import AppConfig


class InteropConfig(AppConfig):
    """FHIR R4: the mappings, the /fhir/ server, bulk export and import."""

    name = "neuroclinic.interop"
    label = "interop"

    def ready(self) -> None:
        # The measures API takes a FHIR QuestionnaireResponse as a body; it may not
        # import interop, so interop hands it the reader (docs/fhir.md, "Import").
        from neuroclinic.interop.fhir.inbound import answers_for_api, instrument_for
        from neuroclinic.measures import api as measures_api

        if answers_for_api not in measures_api.FHIR_ANSWER_READERS:
            measures_api.FHIR_ANSWER_READERS.append(answers_for_api)
        if instrument_for not in measures_api.FHIR_INSTRUMENT_FINDERS:
            measures_api.FHIR_INSTRUMENT_FINDERS.append(instrument_for)
