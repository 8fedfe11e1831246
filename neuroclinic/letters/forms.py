"""Letter forms. They parse; the actions decide."""

from django import forms

from neuroclinic.letters.models import LetterSend, LetterTemplate
from neuroclinic.patients.models import CareTeamProvider


class DraftForm(forms.Form):
    kind = forms.ChoiceField(choices=LetterTemplate.Kind.choices)
    recipient = forms.ModelChoiceField(queryset=CareTeamProvider.objects.none())
    part2 = forms.BooleanField(
        required=False,
        label="Quotes substance-use records covered by 42 CFR Part 2",
    )

    def __init__(self, *args: object, patient_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["recipient"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = CareTeamProvider.objects.filter(patient_id=patient_id)


class EditForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 24}))


class SignForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput, label="Your password (signs the letter)"
    )


class SendForm(forms.Form):
    channel = forms.ChoiceField(choices=LetterSend.Channel.choices)


class AddendumForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Addendum")
    password = forms.CharField(
        widget=forms.PasswordInput, label="Your password (signs the addendum)"
    )


class TemplateForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 28}), label="Template (Markdown)"
    )


class Part2ConsentForm(forms.Form):
    """The patient's written consent to disclose 42 CFR Part 2 records to one recipient."""

    recipient = forms.ModelChoiceField(
        queryset=CareTeamProvider.objects.none(), label="Recipient named in the consent"
    )
    purpose = forms.CharField(
        max_length=200, label="Purpose of the disclosure (as written in the consent)"
    )
    expires_on = forms.DateField(
        label="The consent expires on", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: object, patient_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["recipient"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = CareTeamProvider.objects.filter(patient_id=patient_id)
