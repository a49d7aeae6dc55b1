"""Steps the browser tests share."""


def sign_in(page, username, password="pw"):
    """Sign in through the login form, as a fresh visitor."""
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
