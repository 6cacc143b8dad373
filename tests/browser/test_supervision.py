"""A supervisor assigns each document to k = 2 annotators, an annotator works, the dashboard shows it."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, open_document, wait_saved

pytestmark = pytest.mark.browser

_projects = itertools.count(1)


def test_assign_k_2_annotate_and_watch_progress(live_server, new_context, tmp_path):
    number = next(_projects)
    project, names = f"k2-{number}", [f"k2ann{number}a", f"k2ann{number}b", f"k2ann{number}c"]
    supervisor = f"k2sup{number}"
    article = tmp_path / "article.txt"
    article.write_text("Assigned twice\n\nThe minister said the bridge would open next year. Critics disagreed strongly.\n", encoding="utf-8")
    live_server.cli("import", str(article), "--project", project)
    live_server.cli("users", "add", supervisor, "--role", "supervisor", "--password-stdin", stdin=PASSWORD + "\n")
    live_server.cli("project", "members", "add", project, supervisor)
    for name in names:
        live_server.cli("users", "add", name, "--role", "annotator", "--password-stdin", stdin=PASSWORD + "\n")

    boss = log_in(new_context(), supervisor)
    boss.get_by_role("link", name="Projects").click()
    boss.get_by_role("link", name=project, exact=True).click()
    boss.get_by_role("link", name="Assignments").click()
    boss.get_by_label("Annotators per document (k)").fill("2")
    boss.get_by_label("Seed").fill("7")
    for box in boss.locator("input[name=annotators]").all():  # only this test's annotators
        box.set_checked(box.evaluate("b => b.parentElement.textContent.trim()") in names)
    boss.get_by_role("button", name="Assign").first.click()
    expect(boss.get_by_role("alert")).to_contain_text("2 new assignment(s)")

    rows = live_server.rows(
        "SELECT u.username FROM assignments a JOIN users u ON u.id = a.user_id "
        "JOIN documents d ON d.id = a.document_id JOIN projects p ON p.id = d.project_id "
        "WHERE p.name = :project AND a.status != 'withdrawn'",
        project=project,
    )
    assigned = sorted(row["username"] for row in rows)
    assert len(assigned) == 2 and set(assigned) <= set(names)

    worker = log_in(new_context(), assigned[0])
    expect(worker.get_by_role("link", name="Assigned twice", exact=True)).to_be_visible()
    open_document(worker, "Assigned twice")
    worker.keyboard.press("1")
    wait_saved(worker)
    idle = log_in(new_context(), next(name for name in names if name not in assigned))
    expect(idle.get_by_text("No documents are assigned to you yet")).to_be_visible()

    boss.goto(f"/projects/{live_server.rows('SELECT id FROM projects WHERE name = :p', p=project)[0]['id']}/progress")
    row = boss.get_by_role("row").filter(has_text=assigned[0])
    expect(row).to_contain_text("1 / 2")
    expect(row.locator("meter")).to_have_attribute("value", "0.5")
    other = boss.get_by_role("row").filter(has_text=assigned[1])
    expect(other.locator("meter")).to_have_attribute("value", "0.0")
