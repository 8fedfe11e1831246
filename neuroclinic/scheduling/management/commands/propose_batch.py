"""`neuroclinic propose_batch`: induction series for many waiting patients at once.

Proposes (nothing is booked) through `actions.batch.propose_batch`, in the name of a
staff member who may book visits (`--by`); `--book` books every proposed series through
`series.book_series`, each all or nothing. Patients are named by their record's UUID, not
by name (this output may land in a log). The read is audited as the calendar's.
"""

from argparse import ArgumentParser
from datetime import date, time
from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.scheduling.access import plans_for
from neuroclinic.scheduling.actions import batch
from neuroclinic.scheduling.errors import SchedulingError


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


def _time(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a time (HH:MM).") from None


class Command(BaseCommand):
    help = (
        "Propose induction series for the patients waiting for one (or those named), "
        "planned together against the calendar and the visits they already hold; "
        "--book books them. Exits non-zero on bad input or when nothing fits."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--by", required=True, help="username of the staff member who books"
        )
        parser.add_argument(
            "--location", required=True, help="the location's UUID or exact name"
        )
        parser.add_argument(
            "--start", required=True, help="first day a series may start (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--latest-start",
            required=True,
            help="last day a series may start (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--patient",
            action="append",
            default=[],
            help="a waiting patient's UUID (repeat; default: every waiting patient)",
        )
        parser.add_argument(
            "--preferred-time",
            action="append",
            default=[],
            help="a preferred start time, HH:MM in the location's zone (repeat)",
        )
        parser.add_argument(
            "--time-limit", type=float, default=50.0, help="solver seconds (1-600)"
        )
        parser.add_argument("--workers", type=int, default=2, help="solver threads")
        parser.add_argument(
            "--book", action="store_true", help="book every proposed series"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["by"], is_active=True).first()
        if user is None or user.organization_id is None:
            raise CommandError("No active clinic staff user by that name.")
        if not user.can(Capability.BOOK_APPOINTMENTS):
            raise CommandError(f"{user.username} may not book visits.")
        if not 1 <= options["time_limit"] <= 600:
            raise CommandError("--time-limit must be 1 to 600 seconds.")
        if not 1 <= options["workers"] <= 64:
            raise CommandError("--workers must be 1 to 64.")
        location = self._location(user, options["location"])
        start, latest = _day(options["start"]), _day(options["latest_start"])
        preferred = [_time(v) for v in options["preferred_time"]]
        waiting = batch.waiting_plans(
            plans_for(user, capability=Capability.BOOK_APPOINTMENTS)
        )
        if options["patient"]:
            by_patient = {str(p.patient.uuid): p for p in waiting}
            wanted = []
            for value in options["patient"]:
                try:
                    key = str(UUID(value))
                except ValueError:
                    raise CommandError(f"{value!r} is not a patient UUID.") from None
                if key not in by_patient:
                    raise CommandError(
                        f"{key}: no patient of this clinic waiting for an induction "
                        "series (unknown, or their series is booked or begun)."
                    )
                wanted.append(by_patient[key])
            if len({p.pk for p in wanted}) != len(wanted):
                raise CommandError("Give each patient once.")
            waiting = wanted
        if not waiting:
            raise CommandError("No patient is waiting for an induction series.")
        try:
            proposal = batch.propose_batch(
                [batch.BatchItem(p, preferred_times=preferred) for p in waiting],
                location=location,
                start=start,
                latest_start=latest,
                time_limit_s=options["time_limit"],
                workers=options["workers"],
            )
        except SchedulingError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        record(
            AuditEvent.Action.CALENDAR_VIEWED,
            actor=user,
            organization=location.organization,
            via="command_batch_proposal",
            location=str(location.uuid),
            patients=sorted(str(p.patient.uuid) for p in waiting),
        )
        self.stdout.write(
            f"{len(waiting)} patient(s), status {proposal.status}, objective "
            f"{proposal.objective:.0f}, bound {proposal.best_bound:.0f}, gap "
            f"{proposal.gap:.2%}, solver {proposal.solve_s:.1f} s"
        )
        by_pk = {p.pk: p for p in waiting}
        for pk, visits in proposal.series.items():
            self.stdout.write(
                f"{by_pk[pk].patient.uuid}: " + ", ".join(v.local_label for v in visits)
            )
        for pk, why in proposal.unplaced.items():
            self.stdout.write(f"{by_pk[pk].patient.uuid}: not placed: {why}")
        if not proposal.feasible:
            raise CommandError(
                "No series proposed: not every patient fits in these days "
                f"(status {proposal.status}). Try a later latest start or fewer patients."
            )
        if not options["book"]:
            return
        accepted = [by_pk[pk] for pk in proposal.series]
        done = batch.book_batch(proposal, accepted, location=location, by=user)
        for pk in done.booked:
            self.stdout.write(f"{by_pk[pk].patient.uuid}: booked")
        for pk, why in done.refused.items():
            self.stdout.write(f"{by_pk[pk].patient.uuid}: not booked: {why}")
        if done.refused:
            raise CommandError(f"{len(done.refused)} series could not be booked.")

    def _location(self, user: User, value: str) -> Location:
        places = Location.objects.filter(
            organization_id=user.organization_id or 0, is_active=True
        )
        try:
            found = places.filter(uuid=UUID(value)).first()
        except ValueError:
            found = places.filter(name=value).first()
        if found is None:
            raise CommandError(
                f"No active location {value!r} in {user.username}'s clinic."
            )
        return found
