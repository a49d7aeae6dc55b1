"""Static files are served by the web process itself (WhiteNoise), with no server in front."""


def test_the_site_stylesheet_is_served_by_the_application(client):
    response = client.get("/static/itsm/site.css")
    assert response.status_code == 200
    assert "text/css" in response["Content-Type"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"{" in body
