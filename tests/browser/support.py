"""Steps the browser tests share."""


def settled(page):
    """Wait until the page's own later requests (the fragments htmx fetches once it is shown,
    such as the incident page's suggested articles) are answered, before the test writes to the
    database itself: SQLite's shared in-memory test database refuses a write ("table is
    locked") while the server's thread is reading."""
    page.wait_for_load_state("networkidle")


def sign_in(page, username, password="pw"):
    """Sign in through the login form, as a fresh visitor."""
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
