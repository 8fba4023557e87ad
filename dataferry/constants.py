"""Named defaults. Every number the engine uses lives here, with what it means."""

from __future__ import annotations

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a TCP connection to the vendor."""

READ_TIMEOUT = 60.0
"""Seconds to wait for the next bytes of a response before giving up on it."""

MAX_ATTEMPTS = 6
"""Attempts for one request (the first try included) on retryable failures."""

RETRY_BASE_DELAY = 2.0
"""First back-off delay in seconds; doubles with each attempt (Bright Data asks for 2 s)."""

RETRY_MAX_DELAY = 60.0
"""Upper bound for one back-off delay, and for a server's ``Retry-After`` we honour."""

RETRY_BUDGET = 600.0
"""Total seconds one request may spend waiting between attempts before it gives up."""

POLL_INITIAL = 1.0
"""First delay between two status polls, in seconds."""

POLL_GROWTH = 1.5
"""Factor by which the poll delay grows after each poll that shows no change."""

POLL_MAX = 30.0
"""Cap for the poll delay, in seconds."""

POLL_JITTER = 0.1
"""Relative jitter applied to each poll delay (0.1 = plus or minus 10 %)."""

WAIT_TIMEOUT = 6 * 3600.0
"""Default overall deadline of ``wait()`` in seconds; ``timeout=None`` waits forever."""

NOT_FOUND_GRACE = 30.0
"""Seconds after a trigger during which a 404 on the job means "not visible yet"."""

TRANSPORT_ERRORS_IN_A_ROW = 10
"""Consecutive failed polls (network, 5xx) tolerated before ``wait()`` gives up."""

DOWNLOAD_WORKERS = 2
"""Parts downloaded at the same time."""

CHUNK_SIZE = 1 << 20
"""Bytes read from the network per chunk while spooling a part to disk."""

DOWNLOAD_RESUMES = 5
"""Times a dropped part download is resumed (HTTP Range) before it fails."""

STALL_WINDOW = 60.0
"""Seconds over which a download must receive at least :data:`STALL_BYTES`; a body that
trickles slower is dropped and resumed from the byte reached."""

STALL_BYTES = 64 << 10
"""Bytes a download must receive within :data:`STALL_WINDOW` (about 1 KiB/s)."""

PART_DEADLINE = 6 * 3600.0
"""Seconds one part's download may take in all, resumes included, before it fails."""

STOP_SECONDS = 1.0
"""How long an interrupted or failed operation waits for its download and decode threads to
end (they are told to stop; a blocked read is cut)."""

PROGRESS_MIN_INTERVAL = 0.25
"""Minimum seconds between two redraws of a progress display."""

PROGRESS_TICK = 1.0
"""Seconds between two redraws of a live display when nothing else happens: the elapsed time
keeps moving, and a figure held back by the throttle is shown at the latest this late."""

LOG_PROGRESS_INTERVAL = 30.0
"""Minimum seconds between two progress log lines within one stage."""

QUIET_SECONDS = 1.0
"""Jobs that finish within this many seconds draw no progress display at all."""

PARQUET_COMPRESSION = "zstd"
"""Parquet codec used unless ``compression=`` says otherwise."""

PARQUET_ROW_GROUP_ROWS = 64 * 1024
"""Rows per Parquet row group (a row group is buffered in memory before it is written)."""

PARQUET_ROW_GROUP_BYTES = 32 << 20
"""A row group is also written once its buffered Arrow data reaches this many bytes."""

PARQUET_DICTIONARY_RATIO = 0.5
"""A flat column is dictionary-encoded in Parquet when its first row group has at most this
share of distinct values (categories, currencies...); unique-ish columns (ids, URLs) are not,
which makes writing faster and files smaller."""

PARQUET_DICTIONARY_SAMPLE_ROWS = 16 * 1024
"""Rows of the first row group looked at for that choice (counting distinct values in a whole
row group costs as much as encoding a few columns)."""

HANDOFF_BYTES = 8 << 20
"""Decoded batches are handed from a worker to the consumer in groups of about this many bytes
(fewer thread hand-offs; each one can cost a GIL switch)."""

STREAM_DEPTH = 2
"""Groups a decoding worker may hold ready before it waits for the consumer: enough slack for
the writer and the parsers to overlap, in flat memory (``STREAM_DEPTH * HANDOFF_BYTES`` per
worker)."""

USER_AGENT = "dataferry"
"""Product token sent in ``User-Agent`` (the version is appended)."""

COMMIT_WORKERS = 4
"""Files put in place (server-side copies) or deleted at once when a dataset run commits to an
object store: each is one short request, so a few in flight hide the round trips."""
