"""Reading a GGUF model file's header, without loading the model.

A file the user adds is checked here before llama-cpp ever opens it: the header names
the architecture, the context it was trained for, the quantization and the chat
template, and the tensor table says how many parameters there are and where the data
must end. A file that is not GGUF, is cut short, or holds tensors of a type this
reader does not know is refused with the reason (`ModelError`).

The format (little-endian): magic "GGUF", version, tensor count, key/value count, the
key/values, the tensor infos (name, dimensions, type, offset), padding to the
alignment, then the tensor data.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reverie.core.errors import ModelError

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
# A header bigger than this is not a model's: a vocabulary of 256k tokens is ~10 MB.
MAX_HEADER_BYTES = 256 * 1024 * 1024
_MAX_STRING = 64 * 1024 * 1024
_READ_AHEAD = 1024 * 1024

# Scalar value types of the key/value section: (struct format, size).
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4),
    6: ("<f", 4), 7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8),
}
_STRING, _ARRAY = 8, 9

# ggml tensor types: (elements per block, bytes per block).
TENSOR_TYPES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
    8: (32, 34), 9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144),
    13: (256, 176), 14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74),
    18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}

# general.file_type: what llama.cpp's quantize wrote.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
    22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4_MOE",
}


@dataclass(frozen=True)
class GgufInfo:
    """What a GGUF file's header says about the model inside."""

    path: Path
    version: int
    architecture: str
    name: str
    parameters: int
    quantization: str
    context_length: int | None
    chat_template: str | None
    layers: int | None
    embedding_length: int | None
    head_count: int | None
    head_count_kv: int | None
    key_length: int | None  # per head, when it is not embedding_length / head_count
    value_length: int | None
    file_bytes: int
    vocab_size: int | None = None
    pooling_type: int | None = None
    """How an embedding model pools its tokens (llama.cpp's enum), when the file says."""
    block_bytes: int = 0
    """Weights of the repeating layers ("blk.N.*"): what GPU offload moves, layer by layer."""
    output_bytes: int = 0
    """Weights of the output layer, offloaded only with every layer. A model whose
    output shares the token embeddings (no "output.weight") gets a copy of them there."""

    @property
    def bytes_per_layer(self) -> int:
        """The weights of one repeating layer, on average (0 when unknown)."""
        return self.block_bytes // self.layers if self.layers else 0

    @property
    def kv_bytes_per_token_and_layer(self) -> int:
        """One layer's f16 key/value cache for one token (0 when the shape is unknown)."""
        if not (self.layers and self.embedding_length and self.head_count):
            return 0
        kv_heads = self.head_count_kv or self.head_count
        per_head = self.embedding_length // self.head_count
        return ((self.key_length or per_head) + (self.value_length or per_head)) * kv_heads * 2

    def kv_cache_bytes(self, n_ctx: int) -> int | None:
        """The f16 key/value cache for `n_ctx` tokens; None when the header lacks the
        attention shape (llama-cpp's default cache type is f16: 2 bytes a value)."""
        per_token = self.kv_bytes_per_token_and_layer
        return self.layers * n_ctx * per_token if self.layers and per_token else None


def read_gguf(path: Path | str) -> GgufInfo:
    """Read and check `path`'s GGUF header; `ModelError` says why a file is refused."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            return _read(stream, path, size)
    except FileNotFoundError as error:
        raise ModelError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise ModelError(f"{path}: a folder, not a model file") from error
    except PermissionError as error:
        raise ModelError(f"{path}: not readable ({error.strerror})") from error


class _Reader:
    """Little-endian reads that fail with a reason when the file ends too soon."""

    def __init__(self, stream: BinaryIO, path: Path) -> None:
        self._stream = stream
        self._path = path

    @property
    def position(self) -> int:
        return self._stream.tell()

    def take(self, count: int, what: str) -> bytes:
        if self.position + count > MAX_HEADER_BYTES:
            raise ModelError(f"{self._path}: the GGUF header is implausibly large ({what})")
        data = self._stream.read(count)
        if len(data) != count:
            raise ModelError(f"{self._path}: the file ends inside its header ({what}); "
                             "it is truncated")
        return data

    def skip(self, count: int, what: str) -> None:
        """Move past `count` bytes unread (a file that ends first fails at a later read)."""
        if self.position + count > MAX_HEADER_BYTES:
            raise ModelError(f"{self._path}: the GGUF header is implausibly large ({what})")
        self._stream.seek(count, 1)

    def skip_strings(self, count: int, what: str) -> None:
        """Move past `count` length-prefixed strings, reading ahead in large blocks."""
        buffer, offset = b"", 0
        for _ in range(count):
            if offset + 8 > len(buffer):
                buffer, offset = buffer[offset:] + self._stream.read(_READ_AHEAD), 0
            if offset + 8 > len(buffer):
                self.take(8, what)  # fails: the file ends here
            (length,) = struct.unpack_from("<Q", buffer, offset)
            if length > _MAX_STRING:
                raise ModelError(f"{self._path}: a {length}-byte string in the header ({what})")
            offset += 8 + length
            while offset > len(buffer):
                more = self._stream.read(max(_READ_AHEAD, offset - len(buffer)))
                if not more:
                    self.take(1, what)  # fails: the file ends inside the string
                buffer += more
        self._stream.seek(offset - len(buffer), 1)  # give back what was read ahead
        if self.position > MAX_HEADER_BYTES:
            raise ModelError(f"{self._path}: the GGUF header is implausibly large ({what})")

    def number(self, fmt: str, size: int, what: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.take(size, what))[0]
        return value

    def u32(self, what: str) -> int:
        return int(self.number("<I", 4, what))

    def u64(self, what: str) -> int:
        return int(self.number("<Q", 8, what))

    def string(self, what: str) -> str:
        length = self.u64(what)
        if length > _MAX_STRING:
            raise ModelError(f"{self._path}: a {length}-byte string in the header ({what})")
        return self.take(length, what).decode("utf-8", errors="replace")

    def value(self, kind: int, what: str) -> object:
        if kind in _SCALARS:
            return self.number(*_SCALARS[kind], what)
        if kind == _STRING:
            return self.string(what)
        if kind == _ARRAY:
            item_kind, count = self.u32(what), self.u64(what)
            if item_kind in _SCALARS and item_kind != 7:
                # Large numeric arrays (token scores, types) are skipped, not decoded.
                self.skip(count * _SCALARS[item_kind][1], what)
                return count
            if item_kind == _STRING:
                # So are string arrays (the vocabulary, its merges): only their length
                # is used, and decoding 262k tokens took half a second.
                self.skip_strings(count, what)
                return count
            return [self.value(item_kind, what) for _ in range(count)]
        raise ModelError(f"{self._path}: unknown value type {kind} in the header ({what})")


def _read(stream: BinaryIO, path: Path, size: int) -> GgufInfo:
    reader = _Reader(stream, path)
    magic = stream.read(4)
    if magic != MAGIC:
        raise ModelError(f"{path}: not a GGUF model file (it starts with {magic!r}, "
                         "not b'GGUF')")
    version = reader.u32("version")
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(f"{path}: GGUF version {version} is not supported "
                         f"(only {', '.join(map(str, SUPPORTED_VERSIONS))})")
    tensor_count, kv_count = reader.u64("tensor count"), reader.u64("key count")
    metadata: dict[str, object] = {}
    for _ in range(kv_count):
        key = reader.string("a key")
        metadata[key] = reader.value(reader.u32(key), key)
    table = _tensor_table(reader, path, tensor_count)
    alignment = _int(metadata, "general.alignment") or DEFAULT_ALIGNMENT
    data_start = -(-reader.position // alignment) * alignment
    if table.end and data_start + table.end > size:
        missing = data_start + table.end - size
        raise ModelError(f"{path}: truncated: its tensors need {missing:,} bytes more "
                         "than the file holds")
    return _info(path, version, metadata, table, size)


@dataclass
class _TensorTable:
    parameters: int = 0
    end: int = 0  # where the tensor data ends, relative to its start
    block_bytes: int = 0
    output_bytes: int = 0
    embedding_bytes: int = 0
    has_output_weight: bool = False


def _tensor_table(reader: _Reader, path: Path, count: int) -> _TensorTable:
    """Parameters, the end of the data, and the bytes of the layers and the output."""
    table = _TensorTable()
    for index in range(count):
        name = reader.string(f"tensor {index}")
        elements = 1
        for _ in range(reader.u32(name)):
            elements *= reader.u64(name)
        kind, offset = reader.u32(name), reader.u64(name)
        if kind not in TENSOR_TYPES:
            raise ModelError(f"{path}: tensor {name!r} has type {kind}, which this "
                             "version of Reverie cannot read")
        per_block, block_bytes = TENSOR_TYPES[kind]
        data_bytes = -(-elements // per_block) * block_bytes
        table.parameters += elements
        table.end = max(table.end, offset + data_bytes)
        if name.startswith("blk."):
            table.block_bytes += data_bytes
        elif name.startswith("output"):
            table.output_bytes += data_bytes
            table.has_output_weight |= name == "output.weight"
        elif name.startswith("token_embd"):
            table.embedding_bytes += data_bytes
    if not table.has_output_weight:
        table.output_bytes += table.embedding_bytes
    return table


def _info(path: Path, version: int, metadata: Mapping[str, object], table: _TensorTable,
          size: int) -> GgufInfo:
    architecture = metadata.get("general.architecture")
    if not isinstance(architecture, str) or not architecture:
        raise ModelError(f"{path}: the header names no architecture (general.architecture)")
    template = metadata.get("tokenizer.chat_template")
    file_type = _int(metadata, "general.file_type")
    name = metadata.get("general.name")
    return GgufInfo(
        path=path, version=version, architecture=architecture,
        name=name if isinstance(name, str) and name else path.stem,
        parameters=table.parameters,
        quantization=FILE_TYPES.get(file_type, f"type {file_type}")
        if file_type is not None else "unknown",
        context_length=_int(metadata, f"{architecture}.context_length"),
        chat_template=template if isinstance(template, str) and template else None,
        layers=_int(metadata, f"{architecture}.block_count"),
        embedding_length=_int(metadata, f"{architecture}.embedding_length"),
        head_count=_int(metadata, f"{architecture}.attention.head_count"),
        head_count_kv=_int(metadata, f"{architecture}.attention.head_count_kv"),
        key_length=_int(metadata, f"{architecture}.attention.key_length"),
        value_length=_int(metadata, f"{architecture}.attention.value_length"),
        vocab_size=_count(metadata, "tokenizer.ggml.tokens"),
        pooling_type=_int(metadata, f"{architecture}.pooling_type"),
        file_bytes=size, block_bytes=table.block_bytes, output_bytes=table.output_bytes,
    )


def _int(metadata: Mapping[str, object], key: str) -> int | None:
    value = metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(metadata: Mapping[str, object], key: str) -> int | None:
    # Arrays of numbers and of strings are read as their length.
    return _int(metadata, key)
