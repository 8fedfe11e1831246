"""Phone search keys become the reversed national number, so the last digits find a patient."""

from django.db import migrations


def _key(phone):
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-10:][::-1]


def forwards(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    for patient in Patient.objects.only("id", "phone").iterator(chunk_size=2000):
        Patient.objects.filter(pk=patient.pk).update(phone_search=_key(patient.phone))


def backwards(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    for patient in Patient.objects.only("id", "phone").iterator(chunk_size=2000):
        digits = "".join(c for c in patient.phone if c.isdigit())
        Patient.objects.filter(pk=patient.pk).update(phone_search=digits[-10:])


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_patient_prescriber")]
    operations = [migrations.RunPython(forwards, backwards)]
