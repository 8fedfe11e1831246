"""The main menu: the day's work as links, what is set up rarely under one "Setup" group."""

from collections.abc import Callable

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _menu(client: Client) -> str:
    page = client.get("/staff/").content.decode()
    return page.split('<nav aria-label="Main">')[1].split("</nav>")[0]


def test_setup_pages_are_grouped_under_setup_for_the_director(
    as_persona: Callable[[str], Client],
) -> None:
    menu = _menu(as_persona("director"))

    main, setup = menu.split("<summary")
    assert ">Patients</a>" in main
    assert ">Audit log</a>" in main
    assert ">Setup</summary>" in setup
    assert ">Ketamine protocols</a>" in setup
    assert ">Measures settings</a>" in setup
    assert "Measures settings" not in main


def test_a_role_with_nothing_to_set_up_has_no_setup_group(
    as_persona: Callable[[str], Client],
) -> None:
    menu = _menu(as_persona("front_desk"))

    assert ">Patients</a>" in menu
    assert "Setup" not in menu


def test_the_setup_group_is_marked_current_on_its_pages(
    as_persona: Callable[[str], Client],
) -> None:
    client = as_persona("director")
    page = client.get("/measures/settings/").content.decode()
    menu = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]

    assert '<summary class="current">Setup</summary>' in menu
    assert 'aria-current="page">Measures settings</a>' in menu
