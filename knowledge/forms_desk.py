"""Forms of the desk's knowledge pages: the article list's filters, the editor, the version diff
picker and the incident panel's link form. They only shape input: who may write which field comes
from the policy (``knowledge/rules.py``), and every rule about a write is the services' and
workflows' (``knowledge.services``, ``knowledge.workflows``). The action forms (send back,
restore, feedback) are the action table's, in ``knowledge/forms.py``."""

from __future__ import annotations

from django import forms
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q
from django.forms.models import fields_for_model, model_to_dict

from itsm import policy
from knowledge.models import Article, ArticleState, Audience
from knowledge.rules import ARTICLE_EDITABLE

BODY_MAX = 100_000  # characters the editor (and its preview) takes


def knowledge_editors():
    """People who may own an article: holders of ``knowledge.edit``."""
    return policy.users_with_permission("knowledge.edit").order_by("first_name", "last_name", "username")


class EditorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class ArticleListFilter(forms.Form):
    """The article list's filters: words (``_words``) or KB number, state, category, audience.
    Bad values are reported by field; the list then shows every article the user may read."""

    q = forms.CharField(label="Words or KB number", required=False, max_length=200)
    state = forms.ChoiceField(label="State", required=False, choices=[("", "Any state"), *ArticleState.choices])
    category = forms.ChoiceField(label="Category", required=False, choices=[("", "Any category")])
    audience = forms.ChoiceField(label="Audience", required=False, choices=[("", "Anyone"), *Audience.choices])

    def __init__(self, data=None, *, categories=()):
        super().__init__(data)
        self.fields["category"].choices = [("", "Any category"), *((c, c) for c in categories)]

    def filter(self, queryset):
        if not self.is_bound or not self.is_valid():
            return queryset
        data = self.cleaned_data
        words = data["q"].strip()
        if words:
            queryset = queryset.filter(_words(words))
        for name in ("state", "category", "audience"):
            if data[name]:
                queryset = queryset.filter(**{name: data[name]})
        return queryset

    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


def _words(text: str) -> Q:
    """The text is the KB number; or every word is in the title or the summary; or, on
    PostgreSQL, a published article matches it in full text (title, summary, keywords, body,
    stemmed, as the portal's search) through the published articles' GIN index."""
    condition = Q()
    for word in text.split()[:10]:
        condition &= Q(title__icontains=word) | Q(summary__icontains=word)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        published = ArticleState.PUBLISHED
        condition = (Q(state=published) & Q(search_vector=query)) | (~Q(state=published) & condition)
    return condition | Q(number__iexact=text)


class ArticleForm(forms.Form):
    """The editor: the article's content fields the user may write (all of them for a new
    article), and the version it saw (a change made meanwhile is refused, not overwritten)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, article: Article | None = None, writable=None):
        names = [name for name in ARTICLE_EDITABLE if writable is None or name in writable]
        initial = {"audience": Audience.EVERYONE}
        if article is not None:
            initial = {**model_to_dict(article, fields=names), "version": article.version}
        super().__init__(data, initial=initial)
        self.article = article
        if article is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True
        self.fields.update(fields_for_model(Article, fields=names))
        if "title" in self.fields:
            self.fields["title"].widget.attrs.update(autocomplete="off")
        if "summary" in self.fields:
            self.fields["summary"].widget = forms.Textarea(attrs={"rows": 2, "maxlength": 500})
            self.fields["summary"].help_text = "One or two sentences shown under the title in search results."
        if "body" in self.fields:
            self.fields["body"] = forms.CharField(
                label="Body", required=False, max_length=BODY_MAX,
                widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
                help_text="Markdown: # headings, *emphasis*, **bold**, lists, `code`, ``` fenced blocks ```, "
                          "[links](https://…). Scripts and other unsafe HTML are removed.",
            )  # fmt: skip
        if "keywords" in self.fields:
            self.fields["keywords"].help_text = "Words people may search with, separated by commas."
        if "category" in self.fields:
            self.fields["category"].help_text = "For example Email, Printing, Network, Accounts."
            self.fields["category"].widget.attrs["list"] = "kb-categories"
        if "audience" in self.fields:
            self.fields["audience"].help_text = "Agents-only articles are never shown to customers."
        if "owner" in self.fields:
            self.fields["owner"] = EditorChoiceField(
                queryset=knowledge_editors(), required=False, label="Owner",
                empty_label="Me" if article is None else "Nobody",
                help_text="The knowledge editor who keeps it up to date.",
            )  # fmt: skip
            if article is not None:
                self.initial["owner"] = article.owner_id
        self.order_fields(["version", *names] if article is not None else names)

    def clean(self):
        data = super().clean()
        if "version" in self.errors:  # a hidden field: say it where it shows
            self.add_error(None, "This page is out of date: open the article again and redo your changes.")
        return data

    def service_data(self) -> dict:
        """A new article's content: what was filled in (an empty owner means the author)."""
        data = dict(self.cleaned_data)
        if data.get("owner") is None:
            data.pop("owner", None)
        return data

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name != "version"}

    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")


class PreviewForm(forms.Form):
    body = forms.CharField(required=False, max_length=BODY_MAX)


class DiffForm(forms.Form):
    """Two published versions to compare (numbers)."""

    from_ = forms.IntegerField(label="From version", min_value=1, max_value=2**31 - 1)
    to = forms.IntegerField(label="To version", min_value=1, max_value=2**31 - 1)

    def __init__(self, data=None, *, newest: int | None = None, **kwargs):
        if data is not None:
            data = {"from_": data.get("from"), "to": data.get("to")}
        super().__init__(data, **kwargs)
        if newest:
            for field in self.fields.values():
                field.widget.attrs["max"] = newest


class LinkArticleForm(forms.Form):
    """The incident panel's link and unlink buttons: which article."""

    article = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
