"""The messages between the writer and a worker: read whole, in order, beside pickled ones, and a pipe that ends
is told apart from one cut inside a message."""

from __future__ import annotations

import os
import struct
import threading
from multiprocessing import Pipe

import pytest

from accessfit.jobs.ingest.workers import receive


def test_messages_of_any_size_arrive_whole_and_in_order_beside_pickled_ones() -> None:
    mine, theirs = Pipe()
    blobs = [b"", b"x", os.urandom(70_000), os.urandom(3 << 20)]

    def send() -> None:
        for n, blob in enumerate(blobs):
            theirs.send(("next", n))
            theirs.send_bytes(blob)

    sender = threading.Thread(target=send)
    sender.start()
    for n, blob in enumerate(blobs):
        assert mine.recv() == ("next", n)
        assert bytes(receive(mine)) == blob
    sender.join()


def test_a_message_larger_than_a_32_bit_size_is_framed_as_send_bytes_frames_it() -> None:
    mine, theirs = Pipe()
    os.write(theirs.fileno(), struct.pack("!i", -1) + struct.pack("!Q", 5) + b"hello")
    assert bytes(receive(mine)) == b"hello"


def test_a_pipe_closed_between_messages_is_eof_and_one_cut_inside_a_message_an_error() -> None:
    mine, theirs = Pipe()
    theirs.send_bytes(b"done")
    theirs.close()
    assert bytes(receive(mine)) == b"done"
    with pytest.raises(EOFError):
        receive(mine)
    mine, theirs = Pipe()
    os.write(theirs.fileno(), struct.pack("!i", 10) + b"half")
    theirs.close()
    with pytest.raises(OSError, match="inside a message"):
        receive(mine)
