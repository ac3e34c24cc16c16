"""Routing: a request goes to the team of the commune it lies in, or of the level its kind names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch import sla, store
from dispatch.intake import InvalidRequest
from dispatch.routing import Unplaced
from epimap.db import session_scope
from tests.dispatch.helpers import AREA, NOW, SERVICES, file_request, neighbour_of, points_across_border

HIEP_THANH = "25741"


def test_requests_either_side_of_a_border_go_to_each_communes_team(connection):
    other = neighbour_of(connection, HIEP_THANH)
    inside_a, inside_b = points_across_border(connection, HIEP_THANH, other)
    a = file_request(connection, commune=None, lon=inside_a[0], lat=inside_a[1])
    b = file_request(connection, commune=None, lon=inside_b[0], lat=inside_b[1], phone="0987654321")
    assert (a.commune_code, a.team_code) == (HIEP_THANH, HIEP_THANH)
    assert (b.commune_code, b.team_code) == (other, other)


@pytest.mark.parametrize("typed", ["Phường Hiệp Thành", "P. Hiep Thanh", "hiệp thành, Thủ Dầu Một"])
def test_a_named_commune_places_the_request(connection, typed):
    assert file_request(connection, commune=typed).commune_code == HIEP_THANH


def test_a_district_kind_goes_to_the_districts_team(connection):
    request = file_request(connection, kind="violation")
    assert (request.commune_code, request.team_code) == (HIEP_THANH, "718")


def test_a_place_outside_the_province_is_refused(connection):
    with pytest.raises(Unplaced):
        file_request(connection, commune=None, lon=105.85, lat=21.03)  # Hà Nội
    with pytest.raises(Unplaced):
        file_request(connection, commune="Phường Không Có")


def test_every_wrong_field_is_named(connection):
    with pytest.raises(InvalidRequest) as caught:
        file_request(connection, kind="nope", description=" ", phone="12", commune=None)
    assert set(caught.value.fields) == {"kind", "description", "phone", "location"}
    assert all(vi and en for vi, en in caught.value.fields.values())


def test_an_overdue_request_escalates_a_level_up_each_time_its_clock_runs_out(connection):
    request = file_request(connection, kind="medical")  # 30 minutes to assign
    with session_scope(connection) as session:
        assert sla.escalate_overdue(session, AREA, SERVICES, NOW + timedelta(minutes=29)) == 0
        assert sla.escalate_overdue(session, AREA, SERVICES, NOW + timedelta(minutes=31)) == 1
        assert store.get(session, request.id).team_code == "718"
        assert sla.escalate_overdue(session, AREA, SERVICES, NOW + timedelta(minutes=62)) == 1
        escalated = store.get(session, request.id)
        assert (escalated.team_code, escalated.escalations) == ("74", 2)
        assert sla.escalate_overdue(session, AREA, SERVICES, NOW + timedelta(hours=5)) == 0  # the top
        assert [e.action for e in store.history(session, request.id)] == ["created", "escalated", "escalated"]


def test_a_repeated_call_is_linked_to_the_first_not_lost(connection):
    first = file_request(connection)
    again = file_request(connection, at=NOW + timedelta(hours=1), description="Gọi lại lần hai")
    other_kind = file_request(connection, kind="medical", at=NOW + timedelta(hours=1))
    assert again.duplicate_of == first.id and again.id != first.id
    assert other_kind.duplicate_of is None
    late = file_request(connection, at=NOW + timedelta(hours=7))
    assert late.duplicate_of is None
