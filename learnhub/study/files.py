"""Where material attachments live on disk, and their addresses as the Markdown renderer resolves them."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, url_for

from ..models import Material
from ..services.study import attachments


def attachments_dir() -> Path:
    """ATTACHMENTS_DIR, or instance/attachments beside the default database."""
    return Path(current_app.config.get("ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments")


def attachment_refs(material: Material | None) -> dict[int, tuple[str, bool]]:
    """The material's attachments as the Markdown renderer resolves them: id -> (address, is an image)."""
    if material is None:
        return {}
    return {a.id: (url_for("study.attachment", attachment_id=a.id), a.kind == "image")
            for a in attachments.of_material(material)}
