"""axe-core in the page under test, loaded from SafeBed's own static/ (no CSP bypass).

The vendored `static/vendor/axe.min.js` (axe-core 4.14.1, MPL-2.0, from the npm
registry) is added as a same-origin <script src>, which the strict
Content-Security-Policy allows; the app serves it only in test mode.
"""
from __future__ import annotations

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """async tags => {
  const result = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' ')),
    count: v.nodes.length,
  }));
}"""


def axe_violations(page, base_url: str) -> list[dict]:
    """axe's WCAG 2.2 AA violations on the page as it is now (an empty list when clean)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{base_url}/static/vendor/axe.min.js")
    return page.evaluate(_RUN, AXE_TAGS)


def describe(where: str, violations: list[dict]) -> list[str]:
    """One readable line per violation, naming the page, the rule and the first elements."""
    return [f"{where}: {v['id']} ({v['impact']}, {v['count']}x) {v['help']} -> {v['targets']}" for v in violations]
