"""Bodies of the article actions (``knowledge.actions``): their fields are the workflow's or
service's keyword arguments."""

from __future__ import annotations

from rest_framework import serializers

from knowledge.services import COMMENT_MAX


class SendBackInput(serializers.Serializer):
    review_notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class RestoreInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class FeedbackInput(serializers.Serializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX)
