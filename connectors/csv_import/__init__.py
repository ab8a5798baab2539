"""Import order CSV files: the generic order-lines CSV of SCHEMA.md and Shopify's orders export.

``python -m connectors import-csv PATH`` on the command line, or
:func:`import_csv` from code.
"""

from connectors.csv_import.cells import CsvImportError
from connectors.csv_import.importer import ImportResult, import_csv

__all__ = ["CsvImportError", "ImportResult", "import_csv"]
