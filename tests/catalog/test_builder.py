"""The form builder (an item's "Form fields" tab) without JavaScript: adding, reordering,
configuring and removing fields, every definition error shown beside the row and field at fault
(400, nothing saved), and the "Preview" tab rendering each of the nine types as a customer sees
them."""

import re
from html import unescape

import pytest
from django.urls import reverse

from catalog import services
from tests.catalog.factories import make_category, make_item

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')
ROW_KEYS = ("name", "label", "type", "required", "options", "default_value", "help_text",
            "condition_field", "condition_value", "ORDER")  # fmt: skip


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def row(name="", label="", type="text", *, required=False, options="", default_value="", help_text="",
        condition_field="", condition_value="", order="") -> dict:  # fmt: skip
    return {
        "name": name, "label": label, "type": type, "required": "on" if required else "",
        "options": options, "default_value": default_value, "help_text": help_text,
        "condition_field": condition_field, "condition_value": condition_value, "ORDER": order,
    }  # fmt: skip


def builder_post(rows: list[dict], op: str = "save", *, initial: int | None = None) -> dict:
    """The Form fields tab as a browser posts it."""
    data = {
        "op": op,
        "fields-TOTAL_FORMS": str(len(rows)),
        "fields-INITIAL_FORMS": str(len(rows) if initial is None else initial),
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "1000",
    }
    for index, values in enumerate(rows):
        for key, value in values.items():
            if key == "required" and not value:
                continue
            data[f"fields-{index}-{key}"] = value
    return data


def shown_rows(response) -> list[dict]:
    """The rows the page shows, as their values."""
    return [
        {key: str(form[key].value() or "") for key in ("name", "label", "type", "options")}
        for form in response.context["formset"].forms
    ]


@pytest.fixture
def item(db):
    return make_item(category=make_category("Hardware"), name="Laptop")


@pytest.fixture
def fields_url(item):
    return reverse("desk:catalog-item-fields", args=[item.pk])


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


LAPTOP = [
    row("needs_laptop", "Do you need a laptop?", "checkbox", default_value="true"),
    row("model", "Laptop model", "dropdown", required=True, options="13-inch\n15-inch\n",
        condition_field="needs_laptop", condition_value="true", help_text="Pick a size."),
    row("cost_centre", "Cost centre", "hidden", default_value="IT-42"),
]


# --- Building a form ---------------------------------------------------------------------------


def test_new_item_builder_starts_with_one_empty_row(signed_in, fields_url):
    response = signed_in.get(fields_url)
    assert response.status_code == 200
    assert shown_rows(response) == [{"name": "", "label": "", "type": "text", "options": ""}]
    assert "{" not in "".join(str(f) for f in response.context["formset"].forms[0])  # no JSON anywhere


def test_saving_rows_stores_the_definition_with_options_and_conditions(signed_in, fields_url, item):
    response = signed_in.post(fields_url, builder_post(LAPTOP))
    assert response.status_code == 302 and response["Location"] == fields_url
    item.refresh_from_db()
    assert item.form_fields == [
        {"name": "needs_laptop", "label": "Do you need a laptop?", "type": "checkbox", "required": False,
         "options": [], "default_value": True, "help_text": "", "condition": None},
        {"name": "model", "label": "Laptop model", "type": "dropdown", "required": True,
         "options": ["13-inch", "15-inch"], "default_value": "", "help_text": "Pick a size.",
         "condition": {"field": "needs_laptop", "value": "true"}},
        {"name": "cost_centre", "label": "Cost centre", "type": "hidden", "required": False,
         "options": [], "default_value": "IT-42", "help_text": "", "condition": None},
    ]  # fmt: skip
    # The tab shows the saved fields back, options one per line, without an empty row.
    page = signed_in.get(fields_url)
    assert shown_rows(page)[1] == {"name": "model", "label": "Laptop model", "type": "dropdown", "options": "13-inch\n15-inch"}
    assert page.context["formset"].forms[1]["condition_field"].value() == "needs_laptop"
    assert page.context["formset"].forms[0]["default_value"].value() == "true"


def test_add_a_field_returns_one_more_empty_row_and_saves_nothing(signed_in, fields_url, item):
    rows = [row("first", "First")]
    response = signed_in.post(fields_url, builder_post(rows, op="add"))
    assert response.status_code == 200
    assert shown_rows(response) == [
        {"name": "first", "label": "First", "type": "text", "options": ""},
        {"name": "", "label": "", "type": "text", "options": ""},
    ]
    again = signed_in.post(fields_url, builder_post([*rows, row()], op="add"))
    assert len(again.context["formset"].forms) == 3
    item.refresh_from_db()
    assert item.form_fields == []


def test_move_up_and_down_rearrange_rows_without_saving(signed_in, fields_url, item):
    rows = [row("a", "A"), row("b", "B"), row("c", "C")]
    down = signed_in.post(fields_url, builder_post(rows, op="down:0"))
    assert [r["name"] for r in shown_rows(down)] == ["b", "a", "c"]
    up = signed_in.post(fields_url, builder_post(rows, op="up:2"))
    assert [r["name"] for r in shown_rows(up)] == ["a", "c", "b"]
    # The order numbers follow the rows shown, so saving keeps what the page shows.
    assert [form["ORDER"].value() for form in up.context["formset"].forms] == [1, 2, 3]
    item.refresh_from_db()
    assert item.form_fields == []


def test_order_numbers_decide_the_saved_order(signed_in, fields_url, item):
    rows = [row("a", "A", order="3"), row("b", "B", order="1"), row("c", "C", order="2")]
    assert signed_in.post(fields_url, builder_post(rows)).status_code == 302
    item.refresh_from_db()
    assert [field["name"] for field in item.form_fields] == ["b", "c", "a"]


def test_remove_takes_the_row_away_and_saving_then_drops_the_field(signed_in, fields_url, item):
    signed_in.post(fields_url, builder_post([row("a", "A"), row("b", "B")]))
    rows = [row("a", "A"), row("b", "B")]
    removed = signed_in.post(fields_url, builder_post(rows, op="remove:0"))
    assert [r["name"] for r in shown_rows(removed)] == ["b"]
    item.refresh_from_db()
    assert [field["name"] for field in item.form_fields] == ["a", "b"]  # not saved yet
    assert signed_in.post(fields_url, builder_post([row("b", "B")])).status_code == 302
    item.refresh_from_db()
    assert [field["name"] for field in item.form_fields] == ["b"]


def test_blank_rows_are_left_out_when_saving(signed_in, fields_url, item):
    assert signed_in.post(fields_url, builder_post([row(), row("only", "Only"), row()])).status_code == 302
    item.refresh_from_db()
    assert [field["name"] for field in item.form_fields] == ["only"]


def test_options_are_one_per_line_with_blank_lines_ignored(signed_in, fields_url, item):
    options = "  Red \n\nGreen\r\nBlue\n"
    assert signed_in.post(fields_url, builder_post([row("colour", "Colour", "radio", options=options)])).status_code == 302
    item.refresh_from_db()
    assert item.form_fields[0]["options"] == ["Red", "Green", "Blue"]


# --- Every definition error, beside its row and field, nothing saved ---------------------------

# (rows posted, row at fault, field of the row, words the message holds)
DEFINITION_ERRORS = [
    ("bad name", [row("Laptop Model", "Laptop model")], 0, "name", "a name starts with a lower-case letter"),
    ("missing name", [row("", "Laptop model")], 0, "name", "a name starts with a lower-case letter"),
    ("duplicate name", [row("model", "Model"), row("model", "Model again")], 1, "name",
     'the name "model" is already used by field 1'),
    ("missing label", [row("model", "")], 0, "label", "Field 1 needs a label"),
    ("dropdown without options", [row("size", "Size", "dropdown")], 0, "options",
     "a dropdown field needs at least one option"),
    ("radio without options", [row("size", "Size", "radio")], 0, "options", "a radio field needs at least one option"),
    ("options on a text field", [row("size", "Size", "text", options="S\nM")], 0, "options",
     "only dropdown and radio fields have options"),
    ("repeated option", [row("size", "Size", "dropdown", options="S\nS")], 0, "options", "each option is listed once"),
    ("hidden without default", [row("source", "Source", "hidden")], 0, "default_value",
     "a hidden field needs a default value"),
    ("number default not a number", [row("count", "How many", "number", default_value="many")], 0,
     "default_value", "enter a number"),
    ("date default not a date", [row("when", "When", "date", default_value="12/31/2026")], 0, "default_value",
     "YYYY-MM-DD"),
    ("email default not an e-mail", [row("mail", "Mail", "email", default_value="nope")], 0, "default_value",
     "valid e-mail address"),
    ("dropdown default not an option", [row("size", "Size", "dropdown", options="S\nM", default_value="XL")], 0,
     "default_value", "choose one of: S, M"),
    ("checkbox default not true or false", [row("ok", "OK", "checkbox", default_value="maybe")], 0,
     "default_value", "the default of a checkbox is true or false"),
    ("condition on a later field", [row("model", "Model", condition_field="needs", condition_value="true"),
                                    row("needs", "Needs", "checkbox")], 0, "condition_field",
     'the condition must name an earlier field (not "needs")'),
    ("condition on itself", [row("model", "Model", condition_field="model", condition_value="x")], 0,
     "condition_field", "the condition must name an earlier field"),
    ("condition on a checkbox not true or false", [row("needs", "Needs", "checkbox"),
                                                   row("model", "Model", condition_field="needs", condition_value="yes")],
     1, "condition_field", 'compares with "true" or "false"'),
    ("condition value not an option", [row("size", "Size", "dropdown", options="S\nM"),
                                       row("why", "Why", condition_field="size", condition_value="XL")], 1,
     "condition_field", 'must be one of the options of "Size": S, M'),
]  # fmt: skip


@pytest.mark.parametrize(("rows", "at", "field", "words"), [case[1:] for case in DEFINITION_ERRORS],
                         ids=[case[0] for case in DEFINITION_ERRORS])  # fmt: skip
def test_definition_error_is_shown_beside_its_row_and_field_and_nothing_is_saved(
    signed_in, fields_url, item, rows, at, field, words
):
    saved = [{"name": "keep", "label": "Keep me", "type": "text", "required": False, "options": [],
              "default_value": "", "help_text": "", "condition": None}]  # fmt: skip
    signed_in.post(fields_url, builder_post([row("keep", "Keep me")]))
    response = signed_in.post(fields_url, builder_post(rows))
    assert response.status_code == 400
    forms = response.context["formset"].forms
    errors = " ".join(forms[at].errors.get(field, []))
    assert words in errors, forms[at].errors
    assert words in html_of(response)
    # The page keeps what was typed, so it can be corrected.
    assert [form["name"].value() for form in forms] == [r["name"] for r in rows]
    item.refresh_from_db()
    assert item.form_fields == saved


def test_a_form_of_more_than_a_hundred_fields_is_refused_above_the_rows(signed_in, fields_url, item):
    rows = [row(f"f{number}", f"Field {number}") for number in range(101)]
    response = signed_in.post(fields_url, builder_post(rows))
    assert response.status_code == 400
    assert "A form has at most 100 fields (this one has 101)." in response.context["formset"].non_form_errors()
    item.refresh_from_db()
    assert item.form_fields == []


def test_every_error_of_a_form_is_shown_at_once(signed_in, fields_url, item):
    rows = [row("Bad", "Bad"), row("size", "Size", "dropdown"), row("src", "Source", "hidden")]
    response = signed_in.post(fields_url, builder_post(rows))
    assert response.status_code == 400
    forms = response.context["formset"].forms
    assert forms[0].errors["name"] and forms[1].errors["options"] and forms[2].errors["default_value"]


# --- The preview -------------------------------------------------------------------------------

NINE = [
    row("summary", "Summary", "text", required=True, help_text="One line."),
    row("details", "Details", "textarea"),
    row("count", "How many", "number", default_value="2"),
    row("size", "Size", "dropdown", options="S\nM"),
    row("colour", "Colour", "radio", options="Red\nBlue"),
    row("urgent", "Urgent", "checkbox"),
    row("source", "Source", "hidden", default_value="catalog"),
    row("when", "Needed by", "date"),
    row("contact", "Contact e-mail", "email", condition_field="urgent", condition_value="true"),
]


@pytest.mark.parametrize("door", ["desk", "portal"])
def test_preview_renders_each_of_the_nine_types_as_the_customer_form(signed_in, item, door):
    assert signed_in.post(reverse("desk:catalog-item-fields", args=[item.pk]), builder_post(NINE)).status_code == 302
    name = "desk:catalog-item-preview" if door == "desk" else "portal:catalog-manage-preview"
    response = signed_in.get(reverse(name, args=[item.pk]))
    assert response.status_code == 200
    page = html_of(response)
    assert "Preview — submitting is disabled" in page
    # The include the customer's request page renders its fields with.
    assert "catalog/_request_form_fields.html" in [t.name for t in response.templates]
    assert re.search(r'<input type="text" name="summary"[^>]*required', page)
    assert re.search(r'<textarea name="details"', page)
    assert re.search(r'<input type="number" name="count" value="2"', page)
    assert re.search(r'<select name="size"[^>]*>\s*<option value="" selected>Choose…</option>\s*<option value="S">S</option>', page)
    assert re.search(r'<input type="radio" name="colour" value="Red"', page)
    assert re.search(r'<input type="checkbox" name="urgent"', page)
    assert 'name="source"' not in page  # hidden-type: never sent to the browser, injected at submission
    assert re.search(r'<input type="date" name="when"', page)
    assert re.search(r'data-show-if-field="urgent" data-show-if-value="true"[^>]*>\s*<label for="id_contact">', page)
    assert re.search(r'<input type="email" name="contact"', page)
    assert "One line." in page
    assert re.search(r'<button type="submit" class="button button-primary" disabled', page)
    assert "Summary" in page and "Details <span class=\"optional\">(optional)</span>" in page


def test_preview_of_an_empty_form_says_so(signed_in, item):
    response = signed_in.get(reverse("desk:catalog-item-preview", args=[item.pk]))
    assert "This form has no fields yet" in html_of(response)


@pytest.mark.parametrize("door", ["desk", "portal"])
def test_builder_works_in_both_doors(signed_in, item, door):
    name = "desk:catalog-item-fields" if door == "desk" else "portal:catalog-manage-fields"
    url = reverse(name, args=[item.pk])
    assert signed_in.get(url).status_code == 200
    response = signed_in.post(url, builder_post([row("a", "A")]))
    assert response.status_code == 302 and response["Location"] == url
    bad = signed_in.post(url, builder_post([row("A", "A")]))
    assert bad.status_code == 400 and "a name starts with a lower-case letter" in html_of(bad)


def test_saving_over_someone_elses_change_is_refused_and_nothing_is_saved(signed_in, fields_url, item, manager):
    loaded = signed_in.get(fields_url)
    version = loaded.context["item"].version
    services.item_update(actor=manager, item=item, data={"description": "Changed meanwhile"})
    data = builder_post([row("a", "A")])
    # "Add a field" keeps the version the editor loaded…
    added = signed_in.post(fields_url, {**data, "version": str(version), "op": "add"})
    assert f'name="version" value="{version}"' in added.content.decode()
    # …so the save is checked against it.
    response = signed_in.post(fields_url, {**data, "version": str(version)})
    assert response.status_code == 409
    assert response.context["formset"].non_form_errors()
    item.refresh_from_db()
    assert item.form_fields == []


@pytest.mark.parametrize("op", ["save", "add", "up:0", "nonsense"])
def test_a_tampered_post_is_a_400_and_saves_nothing(signed_in, fields_url, item, op):
    missing_management = {"op": op, "fields-0-name": "a", "fields-0-label": "A"}
    assert signed_in.post(fields_url, missing_management).status_code == 400
    bad_order = builder_post([row("a", "A", order="first")], op=op)
    response = signed_in.post(fields_url, bad_order)
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["ORDER"]
    item.refresh_from_db()
    assert item.form_fields == []
