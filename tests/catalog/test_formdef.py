"""A catalog item's form (issue 15, points 2 and 4), as a table written out by hand: each row
is one definition or one submission and what must come of it — the error key and words, or the
normalised definition / cleaned answers. Nothing here is generated from ``catalog.formdef``."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from catalog.formdef import build_form, validate_definition, validate_submission


def text(name="name", **extra):
    return {"name": name, "label": name.replace("_", " ").capitalize(), "type": "text", **extra}


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# =============================================================================================
# 1. The definition: refused, with the error key and words naming the field
# =============================================================================================

DEFINITION_ERRORS = [
    # (rule, definition, key, words in the message)
    ("the form is a list", {"name": "x"}, "form_fields", "list of fields"),
    ("at most 100 fields", [text(f"f{n}") for n in range(101)], "form_fields", "at most 100 fields"),
    ("a field is an object", ["laptop"], "form_fields[0]", "must be an object"),
    ("unknown properties are refused", [text(colour="red")], "form_fields[0]", "unknown properties: colour"),
    ("a name is required", [{"label": "Model", "type": "text"}], "form_fields[0].name", '"Model": a name starts'),
    ("a name starts with a letter", [text("1st")], "form_fields[0].name", "starts with a lower-case letter"),
    ("a name has no capitals", [text("Model")], "form_fields[0].name", "lower-case letters, digits and underscores"),
    ("a name has no spaces", [text("laptop model")], "form_fields[0].name", "lower-case letters"),
    ("a name has no dashes", [text("laptop-model")], "form_fields[0].name", "lower-case letters"),
    ("a name has at most 50 characters", [text("a" * 51)], "form_fields[0].name", "at most 50 characters"),
    ("names are unique", [text("model"), text("model")], "form_fields[1].name",
     'the name "model" is already used by field 1'),
    ("a label is required", [{"name": "model", "type": "text"}], "form_fields[0].label", "Field 1 needs a label"),
    ("a blank label is refused", [text(label="  ")], "form_fields[0].label", "needs a label"),
    ("a label has at most 200 characters", [text(label="L" * 201)], "form_fields[0].label", "at most 200"),
    ("the type is one of the nine", [text(type="colour")], "form_fields[0].type",
     "choose a type among text, textarea, number, dropdown, radio, checkbox, hidden, date, email"),
    ("the type is required", [{"name": "model", "label": "Model"}], "form_fields[0].type", "choose a type"),
    ("required is true or false", [text(required="yes")], "form_fields[0].required", "true or false"),
    ("a dropdown needs options", [text(type="dropdown")], "form_fields[0].options",
     '"Name": a dropdown field needs at least one option'),
    ("a radio needs options", [text(type="radio", options=[])], "form_fields[0].options",
     "a radio field needs at least one option"),
    ("options are refused on a text field", [text(options=["a"])], "form_fields[0].options",
     "only dropdown and radio fields have options"),
    ("options are refused on a checkbox", [text(type="checkbox", options=["a"])], "form_fields[0].options",
     "only dropdown and radio fields have options"),
    ("options are a list of texts", [text(type="dropdown", options="a,b")], "form_fields[0].options",
     "list of texts"),
    ("an option is not blank", [text(type="dropdown", options=["a", " "])], "form_fields[0].options",
     "cannot be blank"),
    ("options are unique", [text(type="radio", options=["a", "a"])], "form_fields[0].options", "listed once"),
    ("a hidden field needs a default", [text(type="hidden")], "form_fields[0].default_value",
     "a hidden field needs a default value"),
    ("a number's default is a number", [text(type="number", default_value="ten")], "form_fields[0].default_value",
     "enter a number"),
    ("a date's default is YYYY-MM-DD", [text(type="date", default_value="01/02/2027")],
     "form_fields[0].default_value", "YYYY-MM-DD"),
    ("a date's default is a real date", [text(type="date", default_value="2027-02-30")],
     "form_fields[0].default_value", "real date"),
    ("an e-mail's default is an address", [text(type="email", default_value="nobody")],
     "form_fields[0].default_value", "valid e-mail address"),
    ("a dropdown's default is one of its options", [text(type="dropdown", options=["a"], default_value="b")],
     "form_fields[0].default_value", "choose one of: a"),
    ("a checkbox's default is true or false", [text(type="checkbox", default_value="maybe")],
     "form_fields[0].default_value", "true or false"),
    ("a default is a text", [text(default_value=5)], "form_fields[0].default_value", "is a text"),
    ("help text is a text", [text(help_text=["a"])], "form_fields[0].help_text", "is a text"),
    ("help text has at most 500 characters", [text(help_text="h" * 501)], "form_fields[0].help_text",
     "at most 500"),
    ("a condition names an earlier field", [text("a", condition={"field": "b", "value": "x"}), text("b")],
     "form_fields[0].condition", 'must name an earlier field (not "b")'),
    ("a condition does not name its own field", [text("a", condition={"field": "a", "value": "x"})],
     "form_fields[0].condition", "earlier field"),
    ("a condition names an existing field", [text("a"), text("b", condition={"field": "zz", "value": "x"})],
     "form_fields[1].condition", 'not "zz"'),
    ("a condition is field and value", [text("a"), text("b", condition={"field": "a", "op": "="})],
     "form_fields[1].condition", 'a condition is {"field"'),
    ("a condition on a checkbox compares with true or false",
     [text("a", type="checkbox"), text("b", condition={"field": "a", "value": "yes"})],
     "form_fields[1].condition", 'compares with "true" or "false"'),
    ("a condition on a dropdown compares with one of its options",
     [text("a", type="dropdown", options=["x", "y"]), text("b", condition={"field": "a", "value": "z"})],
     "form_fields[1].condition", 'one of the options of "A": x, y'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("definition", "key", "words"),
    [pytest.param(d, k, w, id=rule) for rule, d, k, w in DEFINITION_ERRORS],
)
def test_a_definition_fault_is_refused_naming_the_field(definition, key, words):
    errors = errors_of(lambda: validate_definition(definition))
    assert key in errors, errors
    assert any(words in message for message in errors[key]), errors[key]


def test_every_fault_of_a_definition_is_reported_at_once():
    errors = errors_of(
        lambda: validate_definition([
            {"name": "Bad Name", "label": "Model", "type": "dropdown"},
            {"name": "code", "label": "Code", "type": "hidden"},
            {"name": "when", "label": "When", "type": "date", "condition": {"field": "later", "value": "x"}},
        ])
    )
    assert set(errors) == {
        "form_fields[0].name", "form_fields[0].options", "form_fields[1].default_value", "form_fields[2].condition",
    }  # fmt: skip
    assert errors["form_fields[0].options"] == ['"Model": a dropdown field needs at least one option.']


# =============================================================================================
# 2. The definition: accepted, and how it is normalised
# =============================================================================================

DEFINITIONS_ACCEPTED = [
    # (rule, one field as given, the field as kept)
    ("a minimal text field gets every property",
     {"name": "model", "label": "Model", "type": "text"},
     {"name": "model", "label": "Model", "type": "text", "required": False, "options": [], "default_value": "",
      "help_text": "", "condition": None}),
    ("labels, options and help text are trimmed",
     {"name": "size", "label": " Size ", "type": "radio", "options": [" S ", "M"], "help_text": " Pick one "},
     {"name": "size", "label": "Size", "type": "radio", "required": False, "options": ["S", "M"],
      "default_value": "", "help_text": "Pick one", "condition": None}),
    ("a hidden field keeps its default",
     {"name": "code", "label": "Code", "type": "hidden", "default_value": "IT-100"},
     {"name": "code", "label": "Code", "type": "hidden", "required": False, "options": [],
      "default_value": "IT-100", "help_text": "", "condition": None}),
    ("a checkbox default becomes a boolean",
     {"name": "dock", "label": "Dock", "type": "checkbox", "default_value": "true"},
     {"name": "dock", "label": "Dock", "type": "checkbox", "required": False, "options": [],
      "default_value": True, "help_text": "", "condition": None}),
    ("a checkbox without a default is unticked",
     {"name": "dock", "label": "Dock", "type": "checkbox"},
     {"name": "dock", "label": "Dock", "type": "checkbox", "required": False, "options": [],
      "default_value": False, "help_text": "", "condition": None}),
    ("a null condition is no condition; a null default is none",
     {"name": "n", "label": "N", "type": "number", "condition": None, "default_value": None},
     {"name": "n", "label": "N", "type": "number", "required": False, "options": [], "default_value": "",
      "help_text": "", "condition": None}),
    ("a number default is kept as written",
     {"name": "n", "label": "N", "type": "number", "default_value": "2"},
     {"name": "n", "label": "N", "type": "number", "required": False, "options": [], "default_value": "2",
      "help_text": "", "condition": None}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("given", "kept"), [pytest.param(g, k, id=rule) for rule, g, k in DEFINITIONS_ACCEPTED]
)
def test_an_accepted_definition_is_normalised(given, kept):
    assert validate_definition([given]) == [kept]


def test_options_other_than_dropdown_and_radio_are_dropped_when_empty():
    assert validate_definition([text(options=[])])[0]["options"] == []


def test_a_condition_on_a_checkbox_may_be_given_as_a_boolean():
    fields = validate_definition([text("a", type="checkbox"), text("b", condition={"field": "a", "value": True})])
    assert fields[1]["condition"] == {"field": "a", "value": "true"}


def test_an_empty_form_is_a_form():
    assert validate_definition([]) == []
    assert validate_definition(None) == []


# =============================================================================================
# 3. Submissions: cleaned answers
# =============================================================================================

FORM = [
    {"name": "title", "label": "Title", "type": "text", "required": True},
    {"name": "details", "label": "Details", "type": "textarea"},
    {"name": "quantity", "label": "Quantity", "type": "number"},
    {"name": "model", "label": "Model", "type": "dropdown", "options": ["13-inch", "15-inch"]},
    {"name": "colour", "label": "Colour", "type": "radio", "options": ["Black", "Silver"]},
    {"name": "dock", "label": "Dock", "type": "checkbox"},
    {"name": "code", "label": "Cost centre", "type": "hidden", "default_value": "IT-100"},
    {"name": "needed_by", "label": "Needed by", "type": "date"},
    {"name": "manager", "label": "Manager's e-mail", "type": "email"},
]  # fmt: skip
DEFINITION = validate_definition(FORM)
ALWAYS = {"title": "Laptop", "dock": False, "code": "IT-100"}  # what a bare valid submission keeps

SUBMISSIONS_CLEANED = [
    # (rule, answers, cleaned)
    ("a bare submission keeps the required text, an unticked checkbox and the hidden default",
     {"title": "Laptop"}, ALWAYS),
    ("text is trimmed", {"title": "  Laptop  "}, ALWAYS),
    ("a textarea keeps its lines", {"title": "Laptop", "details": "line 1\nline 2"},
     {**ALWAYS, "details": "line 1\nline 2"}),
    ("an integral number is an int", {"title": "Laptop", "quantity": 2}, {**ALWAYS, "quantity": 2}),
    ("a number given as text is a number", {"title": "Laptop", "quantity": "3"}, {**ALWAYS, "quantity": 3}),
    ("a fraction is a float", {"title": "Laptop", "quantity": "2.5"}, {**ALWAYS, "quantity": 2.5}),
    ("2.0 is the int 2", {"title": "Laptop", "quantity": 2.0}, {**ALWAYS, "quantity": 2}),
    ("a negative number is a number", {"title": "Laptop", "quantity": "-1"}, {**ALWAYS, "quantity": -1}),
    ("a dropdown value among the options", {"title": "Laptop", "model": "15-inch"}, {**ALWAYS, "model": "15-inch"}),
    ("a radio value among the options", {"title": "Laptop", "colour": "Silver"}, {**ALWAYS, "colour": "Silver"}),
    ("a ticked checkbox is true", {"title": "Laptop", "dock": True}, {**ALWAYS, "dock": True}),
    ('a checkbox "true" is true', {"title": "Laptop", "dock": "true"}, {**ALWAYS, "dock": True}),
    ('a checkbox "on" (a browser) is true', {"title": "Laptop", "dock": "on"}, {**ALWAYS, "dock": True}),
    ('a checkbox "false" is false', {"title": "Laptop", "dock": "false"}, ALWAYS),
    ("the hidden field's default wins over what was sent", {"title": "Laptop", "code": "FREE-LUNCH"}, ALWAYS),
    ("a date as YYYY-MM-DD", {"title": "Laptop", "needed_by": "2027-02-28"}, {**ALWAYS, "needed_by": "2027-02-28"}),
    ("a leap day", {"title": "Laptop", "needed_by": "2028-02-29"}, {**ALWAYS, "needed_by": "2028-02-29"}),
    ("an e-mail address", {"title": "Laptop", "manager": "boss@example.com"},
     {**ALWAYS, "manager": "boss@example.com"}),
    ("optional fields sent empty are left out",
     {"title": "Laptop", "details": "", "quantity": None, "model": "", "needed_by": " ", "manager": None}, ALWAYS),
]  # fmt: skip


@pytest.mark.parametrize(("answers", "cleaned"), [pytest.param(a, c, id=rule) for rule, a, c in SUBMISSIONS_CLEANED])
def test_a_valid_submission_is_cleaned(answers, cleaned):
    assert validate_submission(DEFINITION, answers) == cleaned


# =============================================================================================
# 4. Submissions: refused, every field at fault named
# =============================================================================================

SUBMISSION_ERRORS = [
    # (rule, answers, {key: words})
    ("a required field is required", {}, {"form_data.title": "Title is required."}),
    ("a blank required field is missing", {"title": "   "}, {"form_data.title": "Title is required."}),
    ("text is text, not a list", {"title": ["a"]}, {"form_data.title": "Title: enter text."}),
    ("text has at most 1000 characters", {"title": "x" * 1001},
     {"form_data.title": "use at most 1000 characters (it has 1001)"}),
    ("a textarea has at most 10000 characters", {"title": "a", "details": "x" * 10001},
     {"form_data.details": "at most 10000 characters"}),
    ("a number is numeric", {"title": "a", "quantity": "ten"}, {"form_data.quantity": "Quantity: enter a number."}),
    ("a boolean is not a number", {"title": "a", "quantity": True}, {"form_data.quantity": "enter a number"}),
    ("infinity is not a number", {"title": "a", "quantity": "Infinity"}, {"form_data.quantity": "enter a number"}),
    ("NaN is not a number", {"title": "a", "quantity": "NaN"}, {"form_data.quantity": "enter a number"}),
    ("a dropdown value outside the options", {"title": "a", "model": "17-inch"},
     {"form_data.model": "Model: choose one of: 13-inch, 15-inch."}),
    ("a dropdown is matched exactly", {"title": "a", "model": "15-INCH"}, {"form_data.model": "choose one of"}),
    ("a radio value outside the options", {"title": "a", "colour": "Gold"},
     {"form_data.colour": "Colour: choose one of: Black, Silver."}),
    ("a checkbox is true or false", {"title": "a", "dock": "maybe"}, {"form_data.dock": "Dock: answer true or false."}),
    ("a checkbox is not a number", {"title": "a", "dock": 2}, {"form_data.dock": "answer true or false"}),
    ("a date is YYYY-MM-DD", {"title": "a", "needed_by": "28/02/2027"},
     {"form_data.needed_by": "Needed by: enter a date as YYYY-MM-DD."}),
    ("a date is a real date", {"title": "a", "needed_by": "2027-02-29"},
     {"form_data.needed_by": "enter a real date as YYYY-MM-DD"}),
    ("a date with a time is refused", {"title": "a", "needed_by": "2027-02-01T10:00"},
     {"form_data.needed_by": "YYYY-MM-DD"}),
    ("an e-mail is an address", {"title": "a", "manager": "boss"},
     {"form_data.manager": "Manager's e-mail: enter a valid e-mail address."}),
    ("an unknown key is refused by name", {"title": "a", "price": 0},
     {"form_data.price": 'This form has no field named "price".'}),
    ("every fault at once", {"quantity": "x", "model": "y", "extra": 1},
     {"form_data.title": "required", "form_data.quantity": "number", "form_data.model": "choose",
      "form_data.extra": "no field named"}),
    ("the answers are an object", ["Laptop"], {"form_data": "object of field names to values"}),
]  # fmt: skip


@pytest.mark.parametrize(("answers", "expected"), [pytest.param(a, e, id=rule) for rule, a, e in SUBMISSION_ERRORS])
def test_a_submission_fault_is_refused_naming_each_field(answers, expected):
    errors = errors_of(lambda: validate_submission(DEFINITION, answers))
    assert set(errors) == set(expected)
    for key, words in expected.items():
        assert any(words in message for message in errors[key]), errors[key]


# =============================================================================================
# 5. Required checkboxes and conditions
# =============================================================================================

AGREE = validate_definition([{"name": "agree", "label": "I agree", "type": "checkbox", "required": True}])


def test_false_is_a_valid_answer_to_a_required_checkbox():
    assert validate_submission(AGREE, {"agree": False}) == {"agree": False}
    assert validate_submission(AGREE, {"agree": True}) == {"agree": True}


def test_a_required_checkbox_left_out_is_missing():
    assert errors_of(lambda: validate_submission(AGREE, {})) == {"form_data.agree": ["I agree is required."]}


CONDITIONAL = validate_definition([
    {"name": "needs_laptop", "label": "Need a laptop?", "type": "checkbox"},
    {"name": "laptop_model", "label": "Laptop model", "type": "dropdown", "required": True,
     "options": ["13-inch", "15-inch"], "condition": {"field": "needs_laptop", "value": "true"}},
    {"name": "bag", "label": "Bag", "type": "text", "required": True,
     "condition": {"field": "laptop_model", "value": "15-inch"}},
])  # fmt: skip

CONDITIONS = [
    # (rule, answers, cleaned)
    ("a field hidden by its condition is not required", {}, {"needs_laptop": False}),
    ("an answer to a hidden field is not kept", {"needs_laptop": False, "laptop_model": "13-inch"},
     {"needs_laptop": False}),
    ("a shown field is kept", {"needs_laptop": True, "laptop_model": "13-inch"},
     {"needs_laptop": True, "laptop_model": "13-inch"}),
    ("conditions chain: shown when the field it names is shown with the value",
     {"needs_laptop": True, "laptop_model": "15-inch", "bag": "Backpack"},
     {"needs_laptop": True, "laptop_model": "15-inch", "bag": "Backpack"}),
    ("a chain hidden at its start hides the end",
     {"needs_laptop": False, "laptop_model": "15-inch", "bag": "Backpack"}, {"needs_laptop": False}),
]  # fmt: skip


@pytest.mark.parametrize(("answers", "cleaned"), [pytest.param(a, c, id=rule) for rule, a, c in CONDITIONS])
def test_conditions_decide_which_fields_count(answers, cleaned):
    assert validate_submission(CONDITIONAL, answers) == cleaned


def test_a_field_shown_by_its_condition_is_required():
    errors = errors_of(lambda: validate_submission(CONDITIONAL, {"needs_laptop": True}))
    assert errors == {"form_data.laptop_model": ["Laptop model is required."]}
    errors = errors_of(lambda: validate_submission(CONDITIONAL, {"needs_laptop": "true", "laptop_model": "15-inch"}))
    assert errors == {"form_data.bag": ["Bag is required."]}


def test_a_shown_field_is_still_checked():
    errors = errors_of(lambda: validate_submission(CONDITIONAL, {"needs_laptop": True, "laptop_model": "17-inch"}))
    assert errors == {"form_data.laptop_model": ["Laptop model: choose one of: 13-inch, 15-inch."]}


# =============================================================================================
# 6. The Django form: the request page and the builder's preview
# =============================================================================================


def test_the_form_renders_a_widget_per_type_with_labels_help_and_the_browser_hints():
    form = build_form(
        validate_definition([*FORM[:8], {"name": "when", "label": "When", "type": "date", "help_text": "Any day"}])
    )
    html = form.as_div()
    assert 'name="title"' in html and "required" in str(form["title"])
    assert "<textarea" in str(form["details"])
    assert 'type="number"' in str(form["quantity"])
    assert "<select" in str(form["model"]) and ">15-inch</option>" in str(form["model"])
    assert 'type="radio"' in str(form["colour"]) and 'value="Silver"' in str(form["colour"])
    assert 'type="checkbox"' in str(form["dock"])
    assert "code" not in form.fields and "IT-100" not in html  # hidden-type: injected by the service, never sent
    assert 'type="date"' in str(form["needed_by"])
    assert "Any day" in html


def test_a_conditional_field_carries_its_condition_and_is_not_required_by_the_browser():
    form = build_form(CONDITIONAL)
    rows = {spec["name"]: attrs for _field, spec, attrs in form.rows()}
    assert rows["needs_laptop"] == {"data-field-name": "needs_laptop"}
    assert rows["laptop_model"] == {
        "data-field-name": "laptop_model", "data-show-if-field": "needs_laptop", "data-show-if-value": "true",
    }  # fmt: skip
    assert "required" not in str(form["laptop_model"])  # without script every field shows


def test_the_page_refuses_what_the_api_refuses_with_the_same_words():
    form = build_form(CONDITIONAL, data={"needs_laptop": "on", "laptop_model": "17-inch"})
    assert not form.is_valid()
    assert form.errors["laptop_model"] == ["Laptop model: choose one of: 13-inch, 15-inch."]
    assert form.cleaned_form_data is None


def test_the_page_cleans_as_the_api_does_and_an_unticked_box_is_false():
    form = build_form(
        validate_definition(FORM),
        data={"title": " Laptop ", "quantity": "2", "needed_by": "2027-01-04", "code": "HACKED"},
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_form_data == {**ALWAYS, "quantity": 2, "needed_by": "2027-01-04"}


def test_a_default_value_is_where_the_form_starts():
    form = build_form(validate_definition([{"name": "qty", "label": "Qty", "type": "number", "default_value": "1"},
                                           {"name": "dock", "label": "Dock", "type": "checkbox", "default_value": True}]))
    assert 'value="1"' in str(form["qty"])
    assert "checked" in str(form["dock"])


def test_the_shared_template_renders_the_form_as_a_customer_sees_it():
    html = render_to_string("catalog/_request_form_fields.html", {"form": build_form(CONDITIONAL)})
    assert 'data-show-if-field="needs_laptop" data-show-if-value="true"' in html
    assert "Only when “Need a laptop?” is ticked." in html
    assert "Laptop model" in html and "(optional)" not in html  # the dropdown and text are required
    assert "Details <span class=\"optional\">(optional)</span>" in render_to_string(
        "catalog/_request_form_fields.html", {"form": build_form(DEFINITION)}
    )
    empty = render_to_string("catalog/_request_form_fields.html", {"form": build_form([])})
    assert "needs no details" in empty


def test_a_stored_definition_missing_properties_still_works():
    """A form saved without going through validate_definition (an old row, a script) is read
    with the properties' defaults rather than failing."""
    stored = [{"name": "model", "label": "Model", "type": "text"}, {"name": "code", "type": "hidden", "default_value": "X"}]
    assert validate_submission(stored, {}) == {"code": "X"}
    assert build_form(stored, data={"model": "a"}).is_valid()
