"""Reading and writing sessions: the native Parquet format, importers and exporters.

See ``docs/formats.md`` for every layout.
"""

from imugait.io._devices import ClockMode
from imugait.io._placement_map import parse_placement_map
from imugait.io.apdm import read_apdm_h5
from imugait.io.csv_generic import read_csv_session, write_csv_session
from imugait.io.formats import SourceFormat, read_recording
from imugait.io.hugadb import read_hugadb, read_hugadb_file
from imugait.io.movella_dot import read_dot_dir, read_dot_file
from imugait.io.mpu9250 import decode_1bsn, read_1bsn
from imugait.io.mpu9250_walks import (
    catalog_mpu9250,
    iter_mpu9250_walks,
    list_mpu9250_walks,
    read_mpu9250_walk,
)
from imugait.io.mvnx import read_mvnx
from imugait.io.native import FORMAT_VERSION, read_session, write_session
from imugait.io.qmt import read_qmt_mat
from imugait.io.summary import describe_session
from imugait.io.ximu3 import read_ximu3, read_ximu3_device
from imugait.io.xsens import read_xsens_dir, read_xsens_file

__all__ = [
    "FORMAT_VERSION",
    "ClockMode",
    "SourceFormat",
    "catalog_mpu9250",
    "decode_1bsn",
    "describe_session",
    "iter_mpu9250_walks",
    "list_mpu9250_walks",
    "parse_placement_map",
    "read_1bsn",
    "read_apdm_h5",
    "read_csv_session",
    "read_dot_dir",
    "read_dot_file",
    "read_hugadb",
    "read_hugadb_file",
    "read_mpu9250_walk",
    "read_mvnx",
    "read_qmt_mat",
    "read_recording",
    "read_session",
    "read_xsens_dir",
    "read_xsens_file",
    "read_ximu3",
    "read_ximu3_device",
    "write_csv_session",
    "write_session",
]
