"""The editor's form: fixed fields plus numbered rows (sections, questions, image alt texts), read from
the POST into the plain dict `actions.update_page` checks, and back into rows to show."""

from __future__ import annotations

from smmdesk.sites.models import Page

FIELDS = ("title", "description", "h1", "intro")


def _rows(post, prefix: str, keys: tuple[str, ...], count: int) -> list[dict]:
    return [{key: post.get(f"{prefix}-{i}-{key}", "") for key in keys} for i in range(count)]


def editor_data(post, page: Page) -> dict:
    data = {name: post.get(name, "") for name in FIELDS}
    sections = _rows(post, "section", ("heading", "text"), len(page.sections))
    for row, old in zip(sections, page.sections, strict=True):
        if old.get("kind"):
            row["kind"] = old["kind"]  # the kind decides which live facts follow; not editable
    data["sections"] = sections
    faq = _rows(post, "faq", ("question", "answer", "delete"), len(page.faq))
    data["faq"] = [{"question": r["question"], "answer": r["answer"]} for r in faq if not r["delete"]]
    new_question, new_answer = (
        post.get("faq-new-question", "").strip(),
        post.get("faq-new-answer", "").strip(),
    )
    if new_question or new_answer:
        data["faq"].append({"question": new_question, "answer": new_answer})
    data["images"] = [post.get(f"image-{i}-alt", "") for i in range(len(page.images))]
    return data


def editor_rows(post, page: Page) -> dict:
    """What the editor shows: the refused input when there is some, else the page as stored."""
    if post is not None:
        data = editor_data(post, page)
        data["images"] = [{**img, "alt": alt} for img, alt in zip(page.images, data["images"], strict=True)]
        return data
    return {
        **{name: getattr(page, name) for name in FIELDS},
        "sections": page.sections,
        "faq": page.faq,
        "images": page.images,
    }
