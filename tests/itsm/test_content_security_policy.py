"""Every response carries the Content-Security-Policy; a page that writes its own style element
marks it with that response's nonce."""

import re

import pytest
from django.test import override_settings

from itsm.middleware import policy_for


@pytest.mark.django_db
def test_pages_and_api_answers_carry_the_policy(client, customer):
    client.force_login(customer)
    for path in ("/portal/", "/api/v1/incidents/", "/login/"):
        policy = client.get(path)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
        assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_each_response_gets_its_own_nonce(client, customer):
    client.force_login(customer)
    nonces = {
        re.search(r"'nonce-([^']+)'", client.get("/portal/")["Content-Security-Policy"])[1] for _ in "ab"
    }
    assert len(nonces) == 2


def test_site_pages_allow_no_inline_script_or_style():
    policy = policy_for("/desk/incidents/")
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]


@override_settings(
    SECURE_CSP={"default-src": ["'self'"]}, SECURE_CSP_PATHS={"/a/": {"x": ["1"]}, "/a/b/": {"x": ["2"]}}
)
def test_the_longest_path_prefix_wins():
    assert policy_for("/a/b/c") == {"default-src": ["'self'"], "x": ["2"]}
    assert policy_for("/a/c") == {"default-src": ["'self'"], "x": ["1"]}
    assert policy_for("/c") == {"default-src": ["'self'"]}
