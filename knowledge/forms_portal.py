"""Forms of the portal's knowledge pages. The feedback form is the action table's
(``knowledge.forms.FeedbackForm``: its cleaned data are ``article_feedback``'s arguments), worded
for a reader."""

from __future__ import annotations

from knowledge.forms import FeedbackForm


class ReaderFeedbackForm(FeedbackForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helpful"].label = "Did this article help?"
        self.fields["comment"].label = "Comment"
        self.fields["comment"].help_text = "What worked, or what is missing. Only the knowledge team reads it."
