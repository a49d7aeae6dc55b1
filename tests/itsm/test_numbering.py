"""Human record numbers (SPEC §7): INC0000001…, one sequence per prefix, never handed out twice."""

import threading

import pytest
from django.db import close_old_connections, connection, connections, transaction

from catalog.models import Request, RequestTask
from changes.models import Change, ChangeTask
from incidents.models import Incident, IncidentTask
from itsm import services
from itsm.errors import InvalidInput
from itsm.models import Work
from itsm.numbering import next_number
from problems.models import Problem, ProblemTask


def _create_incident(customer, text="Printer on fire"):
    return services.record_create(
        model=Incident,
        actor=customer,
        data={"short_description": text},
        requester=customer,
        organisation=customer.organisation,
    )


@pytest.mark.django_db
def test_incident_numbers_start_at_inc0000001_and_count_up(customer):
    numbers = [_create_incident(customer).number for _ in range(3)]
    assert numbers == ["INC0000001", "INC0000002", "INC0000003"]


@pytest.mark.django_db
def test_numbers_are_the_prefix_and_seven_digits():
    for _ in range(11):
        last = next_number("INC")
    assert last == "INC0000011"


def test_each_kind_numbers_with_its_prefix():
    assert Incident.NUMBER_PREFIX == "INC"
    assert Request.NUMBER_PREFIX == "REQ"
    assert Problem.NUMBER_PREFIX == "PRB"
    assert Change.NUMBER_PREFIX == "CHG"
    assert IncidentTask.NUMBER_PREFIX == "TASK"
    assert RequestTask.NUMBER_PREFIX == "TASK"
    assert ProblemTask.NUMBER_PREFIX == "TASK"
    assert ChangeTask.NUMBER_PREFIX == "TASK"


@pytest.mark.django_db
def test_each_prefix_has_its_own_sequence():
    assert next_number("INC") == "INC0000001"
    assert next_number("INC") == "INC0000002"
    assert next_number("REQ") == "REQ0000001"
    assert next_number("PRB") == "PRB0000001"
    assert next_number("INC") == "INC0000003"
    assert next_number("CHG") == "CHG0000001"
    assert next_number("TASK") == "TASK0000001"
    assert next_number("REQ") == "REQ0000002"
    assert next_number("TASK") == "TASK0000002"


@pytest.mark.django_db
def test_records_of_each_kind_get_numbers_from_their_own_sequence(customer, agent):
    incident = _create_incident(customer)
    request = services.record_create(
        model=Request,
        actor=customer,
        data={"short_description": "New laptop"},
        requester=customer,
        organisation=customer.organisation,
    )
    problem = services.record_create(model=Problem, actor=agent, data={"short_description": "Disk"})
    change = services.record_create(model=Change, actor=agent, data={"short_description": "Patch"})
    task = services.record_create(
        model=IncidentTask,
        actor=agent,
        data={"short_description": "Check cable"},
        incident=incident,
    )
    second_incident = _create_incident(customer)
    assert [
        incident.number,
        request.number,
        problem.number,
        change.number,
        task.number,
        second_incident.number,
    ] == [
        "INC0000001",
        "REQ0000001",
        "PRB0000001",
        "CHG0000001",
        "TASK0000001",
        "INC0000002",
    ]


@pytest.mark.django_db
def test_tasks_of_every_kind_share_the_task_sequence(customer, agent):
    incident = _create_incident(customer)
    change = services.record_create(model=Change, actor=agent, data={"short_description": "Patch"})
    first = services.record_create(
        model=IncidentTask, actor=agent, data={"short_description": "a"}, incident=incident
    )
    second = services.record_create(
        model=ChangeTask, actor=agent, data={"short_description": "b"}, change=change
    )
    assert (first.number, second.number) == ("TASK0000001", "TASK0000002")


@pytest.mark.django_db
def test_a_rolled_back_creation_gives_its_number_back_so_numbers_stay_unique_and_contiguous(customer):
    _create_incident(customer, "kept 1")
    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back = _create_incident(customer, "rolled back")
        assert rolled_back.number == "INC0000002"
        raise RuntimeError("the caller's transaction fails after the record was created")
    _create_incident(customer, "kept 2")
    numbers = list(Work.objects.order_by("number").values_list("number", flat=True))
    assert numbers == ["INC0000001", "INC0000002"]
    assert not Incident.objects.filter(short_description="rolled back").exists()


@pytest.mark.django_db
def test_a_refused_creation_uses_up_no_number(customer):
    _create_incident(customer)
    with pytest.raises(InvalidInput):
        services.record_create(
            model=Incident,
            actor=customer,
            data={"short_description": ""},
            requester=customer,
            organisation=customer.organisation,
        )
    assert _create_incident(customer).number == "INC0000002"
    assert Incident.objects.count() == 2


# --- Concurrency (PostgreSQL: SQLite serialises every writer anyway) ---------------------------

THREADS = 8
PER_THREAD = 20

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent numbering needs PostgreSQL row locks; SQLite allows one writer at a time "
    "(run with DATABASE_URL=postgres://…)",
)


def _run_concurrently(work):
    """Run ``work()`` PER_THREAD times in each of THREADS threads, each on its own connection,
    each call in its own transaction; answer the values returned and any errors raised."""
    start = threading.Barrier(THREADS)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        close_old_connections()
        try:
            start.wait(timeout=30)
            for _ in range(PER_THREAD):
                with transaction.atomic():
                    value = work()
                with lock:
                    results.append(value)
        except BaseException as exc:  # reported by the test below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker never finished"
    assert not errors, errors
    return results


def _contiguous(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:07d}" for n in range(1, count + 1)]


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_next_number_hands_out_each_number_once_without_gaps():
    numbers = _run_concurrently(lambda: next_number("INC"))
    assert len(numbers) == THREADS * PER_THREAD
    assert len(set(numbers)) == len(numbers), "a number was handed out twice"
    assert sorted(numbers) == _contiguous("INC", THREADS * PER_THREAD)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_incident_creation_numbers_every_record_once_without_gaps(customer):
    numbers = _run_concurrently(lambda: _create_incident(customer).number)
    stored = sorted(Incident.objects.values_list("number", flat=True))
    assert len(stored) == THREADS * PER_THREAD
    assert sorted(numbers) == stored
    assert stored == _contiguous("INC", THREADS * PER_THREAD)
