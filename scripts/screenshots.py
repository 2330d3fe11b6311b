"""Screenshot the main pages at 1280 and 375 px for review: python scripts/screenshots.py [BASE] [OUT].

Needs a running server with the demo province (`make run`) and Debian Chromium."""

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "var/screenshots")
PASSWORD = "Baosong-Demo-2026"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {
    "linjiang_admin": ["/", "/units/", "/people/", "/registers/import/"],
    "secadmin": ["/", "/people/?role=editor"],
    "auditor": ["/", "/audit/"],
    "anping_xinxi": [
        "/",
        "/profile/",
        "/items/?tab=all",
        "/items/new/",
        "/items/1/edit/",
        "/items/3/",
    ],
    "anping_shenhe": ["/", "/review/", "/items/3/", "/items/3/approval-form/", "/notifications/"],
    "anping_admin": ["/units/11/review-stages/"],
    "sysadmin": ["/units/"],
    "linjiang_bianji": ["/", "/inbox/", "/publications/", "/feedback/"],
}


def sign_in(page: Page, login: str) -> None:
    page.goto(f"{BASE}/login/")
    page.fill("#id_username", login)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for width in (1280, 375):
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{BASE}/login/")
            page.screenshot(path=str(OUT / f"login-{width}.png"), full_page=True)
            context.close()
            for login, paths in PAGES.items():
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, locale="zh-CN"
                )
                page = context.new_page()
                sign_in(page, login)
                for path in paths:
                    page.goto(f"{BASE}{path}")
                    page.wait_for_load_state("networkidle")
                    name = path.strip("/").split("?")[0].replace("/", "-") or "home"
                    page.screenshot(path=str(OUT / f"{login}-{name}-{width}.png"), full_page=True)
                context.close()
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
