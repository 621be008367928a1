"""
Open every stored registration document through this node's storage (the two-node drill
runs it inside the *other* node's namespace): read from S3, decrypt, check it is a JPEG.

    ip netns exec linli-nodes-b .venv/bin/python -m bench.drills.nodes_readback

Prints one JSON line: {"documents": n, "read": n, "failed": [...], "by_surname": {...}}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))


def main() -> int:
    import django

    django.setup()
    from registration.documents import document_file_read
    from registration.models import Document

    documents = read = 0
    failed: list[str] = []
    by_surname: dict[str, list[int]] = {}
    rows = Document.objects.filter(registration__isnull=False).select_related(
        "registration__resident"
    )
    for document in rows.iterator(chunk_size=200):
        documents += 1
        surname = document.registration.resident.surname
        counts = by_surname.setdefault(surname, [0, 0])
        counts[1] += 1
        try:
            ok = document_file_read(name=document.file.name)[:2] == b"\xff\xd8"
        except Exception as error:
            ok = False
            failed.append(f"{document.file.name}: {type(error).__name__}: {error}"[:200])
        else:
            if not ok:
                failed.append(f"{document.file.name}: not a JPEG")
        read += ok
        counts[0] += ok
    print(
        json.dumps(
            {"documents": documents, "read": read, "failed": failed[:5], "by_surname": by_surname}
        )
    )
    return 0 if read == documents else 1


if __name__ == "__main__":
    sys.exit(main())
