"""Data in from files and tables: parsing, checking, staging and writing facts (SPEC §6)."""

from jobs.ingest.importer import DEFAULT_IMPORT_SOURCE, ImportSetupError, import_file, ingest_file
from jobs.ingest.pipeline import IngestReport

__all__ = ["DEFAULT_IMPORT_SOURCE", "ImportSetupError", "IngestReport", "import_file", "ingest_file"]
