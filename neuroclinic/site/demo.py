"""Demo public site: how the demo clinic gives an infusion, its clinicians and two
photos of its rooms. The photos are drawn here (no real place or person) and go
through the same checks and re-encoding as an upload."""

from io import BytesIO

from PIL import Image, ImageDraw

from neuroclinic.clinics.demo import DemoContext
from neuroclinic.site import actions
from neuroclinic.site.models import SiteSettings

INFUSION_SETTING = """
Each infusion is given in a **private, quiet room** of its own, with a reclining chair, soft
light you can dim, and a blanket. We keep noise, talk and bright light to a minimum: you may
bring headphones and music, or rest with your eyes closed.

- The dose runs through a **syringe pump** set to the rate your prescriber ordered, so it is
  given evenly over the whole infusion, never all at once.
- A **monitor** records your blood pressure, heart rate, oxygen level and breathing
  **continuously** and sends each reading to your nurse's tablet; it alarms if a reading is
  out of range.
- **A nurse stays with you** throughout and until you have recovered, and a prescriber is on
  site.
"""

CLINICIANS = [
    (
        "director",
        "MD, board-certified psychiatrist",
        "Medical director",
        "Dana sets the clinic's treatment protocols and reviews every patient's history "
        "before a first infusion. (Demo profile.)",
    ),
    (
        "prescriber",
        "MD, psychiatrist",
        "Prescriber",
        "Priya sees new patients at their consultation and follows each series with the "
        "questionnaire scores. (Demo profile.)",
    ),
    (
        "nurse",
        "RN",
        "Infusion nurse",
        "Noah gives the infusions and stays with each patient until they have recovered. "
        "(Demo profile.)",
    ),
]

PHOTOS = [
    (
        "A quiet infusion room with a reclining chair and dimmed lights (drawn for the demo).",
        "One of our infusion rooms.",
        (61, 79, 92),
    ),
    (
        "A waiting area with two armchairs and a plant (drawn for the demo).",
        "The waiting area.",
        (96, 110, 84),
    ),
]


def _drawing(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (1200, 800), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 560, 1200, 800), fill=(200, 190, 170))  # the floor
    draw.rounded_rectangle((420, 330, 820, 600), radius=40, fill=(235, 230, 220))
    draw.ellipse((930, 90, 1090, 250), fill=(250, 236, 190))  # a lamp
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def load(context: DemoContext) -> None:
    organization = context.organization
    admin = context.staff["admin"]
    SiteSettings.objects.filter(organization=organization).update(
        infusion_setting=INFUSION_SETTING.strip()
    )
    for position, (username, credentials, role, bio) in enumerate(CLINICIANS):
        user = context.staff[username]
        actions.save_clinician(
            organization,
            profile=None,
            by=admin,
            name=f"{user.first_name} {user.last_name}",
            credentials=credentials,
            role=role,
            bio=bio,
            position=(position + 1) * 10,
            is_published=True,
        )
    for position, (alt_text, caption, colour) in enumerate(PHOTOS):
        actions.add_photo(
            organization,
            data=_drawing(colour),
            alt_text=alt_text,
            caption=caption,
            position=(position + 1) * 10,
            by=admin,
        )
