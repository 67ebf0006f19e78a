"""The web shell end to end: environments page, add an environment pointing at the real dev
Superset, test its connection, then search the dashboards page and switch environment."""
import re

from playwright.sync_api import expect


def test_add_environment_test_connection_and_search(page, ferry_url, dev_superset):
    page.goto(f"{ferry_url}/environments")
    expect(page.get_by_test_id("no-environments")).to_be_visible()

    # A wrong URL is refused with the field marked and nothing saved.
    page.get_by_test_id("add-environment").click()
    page.fill("#f-name", "dev")
    page.fill("#f-url", "ftp://nowhere")
    page.fill("#f-username", "admin")
    page.fill("#f-password", "admin")
    page.select_option("#f-stage", "dev")
    expect(page.locator("#f-parallelRequests")).to_have_value("1")  # the default
    page.fill("#f-parallelRequests", "17")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("form-error")).to_be_visible()
    expect(page.locator(".field.invalid #f-url")).to_be_visible()
    expect(page.locator(".field.invalid #f-parallelRequests")).to_be_visible()
    expect(page.locator("#f-parallelRequests")).to_have_value("17")  # shown back as typed
    expect(page.locator("#f-password")).to_have_value("")  # never echoed back

    page.fill("#f-url", dev_superset)
    page.fill("#f-password", "admin")
    page.fill("#f-parallelRequests", "2")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/environments\?done=saved"))
    expect(page.locator("tr[data-environment=dev]")).to_be_visible()
    page.locator("tr[data-environment=dev] a", has_text="Edit").click()
    expect(page.locator("#f-parallelRequests")).to_have_value("2")
    page.goto(f"{ferry_url}/environments")

    page.get_by_test_id("test-dev").click()
    expect(page.get_by_test_id("test-result")).to_contain_text("connected to Superset 6.1.0")

    # The first sync started when the environment was saved; the dashboards page answers from it.
    for _ in range(60):
        page.goto(f"{ferry_url}/dashboards?search=sales+overview")
        if "Dashboards found: 1" in page.get_by_test_id("result-count").inner_text():
            break
        page.wait_for_timeout(500)
    expect(page.get_by_test_id("result-count")).to_have_text("Dashboards found: 1")
    expect(page.get_by_test_id("dashboards")).to_contain_text("Sales overview")
    expect(page.get_by_test_id("sync-status")).to_contain_text("dev")

    page.fill("[data-testid=search]", "filler")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("result-count")).to_have_text("Dashboards found: 120")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"page=2"))

    # The environment switcher submits itself (ferry.js, no inline script).
    page.select_option("[data-testid=environment-switcher]", "dev")
    expect(page).to_have_url(re.compile(r"environment=dev"))
    expect(page.get_by_test_id("result-count")).to_contain_text("120")


def test_language_switch_and_delete_confirmation(page, ferry_url):
    page.goto(f"{ferry_url}/environments")
    page.locator("a[data-lang=ru]").click()
    expect(page.locator("h1")).to_have_text("Окружения")
    page.goto(f"{ferry_url}/dashboards")
    expect(page.locator("h1")).to_have_text("Дашборды")  # the choice is remembered
    page.locator("a[data-lang=en]").click()
    expect(page.locator("h1")).to_have_text("Dashboards")

    page.goto(f"{ferry_url}/environments")
    if page.locator("tr[data-environment=dev]").count() == 0:
        return
    page.once("dialog", lambda d: d.dismiss())
    page.get_by_test_id("delete-dev").click()
    expect(page.locator("tr[data-environment=dev]")).to_be_visible()  # dismissed: kept
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("delete-dev").click()
    expect(page).to_have_url(re.compile(r"done=deleted"))
    expect(page.locator("tr[data-environment=dev]")).to_have_count(0)
