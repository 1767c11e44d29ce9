"""Reading and writing sessions: the native Parquet format, importers and exporters.

See ``docs/formats.md`` for every layout.
"""

from imugait.io._placement_map import parse_placement_map
from imugait.io.csv_generic import read_csv_session, write_csv_session
from imugait.io.native import FORMAT_VERSION, read_session, write_session
from imugait.io.summary import describe_session
from imugait.io.xsens import read_xsens_dir, read_xsens_file

__all__ = [
    "FORMAT_VERSION",
    "describe_session",
    "parse_placement_map",
    "read_csv_session",
    "read_session",
    "read_xsens_dir",
    "read_xsens_file",
    "write_csv_session",
    "write_session",
]
