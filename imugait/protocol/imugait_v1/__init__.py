"""Our open wire protocol, version 1 (``firmware_specs/imugait_v1.md``): spec, encoder, decoder.

The emulator and firmware tests use the ``encode_*`` functions; hosts use
:class:`ImugaitV1Decoder`.
"""

from imugait.protocol.imugait_v1.decode import ImugaitV1Decoder
from imugait.protocol.imugait_v1.encode import (
    encode_ack,
    encode_command,
    encode_data,
    encode_data_raw,
    encode_device_info,
    encode_message,
    encode_status,
    quantise,
)
from imugait.protocol.imugait_v1.spec import (
    DATA_FRAME_OVERHEAD,
    GATT_COMMAND_UUID,
    GATT_DATA_UUID,
    GATT_INFO_UUID,
    GATT_SERVICE_UUID,
    MAX_ENCODED_FRAME,
    MAX_SAMPLES_PER_BLOCK,
    PROTOCOL_VERSION,
    DataFlags,
    DeviceInfoV1,
    MessageType,
    StatusFlag,
    max_samples_per_notification,
)

__all__ = [
    "DATA_FRAME_OVERHEAD",
    "GATT_COMMAND_UUID",
    "GATT_DATA_UUID",
    "GATT_INFO_UUID",
    "GATT_SERVICE_UUID",
    "MAX_ENCODED_FRAME",
    "MAX_SAMPLES_PER_BLOCK",
    "PROTOCOL_VERSION",
    "DataFlags",
    "DeviceInfoV1",
    "ImugaitV1Decoder",
    "MessageType",
    "StatusFlag",
    "encode_ack",
    "encode_command",
    "encode_data",
    "encode_data_raw",
    "encode_device_info",
    "encode_message",
    "encode_status",
    "max_samples_per_notification",
    "quantise",
]
