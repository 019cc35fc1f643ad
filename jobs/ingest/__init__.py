"""Data in from files and tables: parsing, checking, staging and writing facts (SPEC §6).

The names below load their submodule when first used (jobs/lazy.py): source settings read the mapping
rules at start-up without the readers and the pipeline."""

from typing import TYPE_CHECKING

from jobs.lazy import lazy_exports

if TYPE_CHECKING:
    from jobs.ingest.importer import DEFAULT_IMPORT_SOURCE, ImportSetupError, import_file, ingest_file
    from jobs.ingest.pipeline import IngestReport

__getattr__ = lazy_exports(__name__, {
    "importer": ("DEFAULT_IMPORT_SOURCE", "ImportSetupError", "import_file", "ingest_file"),
    "pipeline": ("IngestReport",),
})

__all__ = ["DEFAULT_IMPORT_SOURCE", "ImportSetupError", "IngestReport", "import_file", "ingest_file"]
